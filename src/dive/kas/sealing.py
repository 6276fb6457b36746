"""Private keys sealed at rest (spec/ztdf-kas.md §10): AES-256-GCM under the instance KEK, AAD `dive-kas-key:<kid>`."""

from __future__ import annotations

import base64
import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dive.kas.errors import KeyStoreError

__all__ = ["new_kek", "seal_private_key", "unseal_private_key"]


def new_kek() -> str:
    """32 random bytes, base64url: the value stored at `kas/<c>/kek`."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _kek_bytes(kek: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(kek.encode("ascii"))
    except ValueError as exc:
        raise KeyStoreError("kas_key_store_invalid", "the KAS key-encryption key is not base64url") from exc
    if len(key) != 32:
        raise KeyStoreError("kas_key_store_invalid", f"the KAS key-encryption key has {len(key)} bytes; expected 32")
    return key


def seal_private_key(kek: str, kid: str, key: rsa.RSAPrivateKey) -> str:
    """The envelope `{"v":1,"kid","alg":"A256GCM","iv","ct"}` over the PKCS#8 DER of `key`."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    iv = secrets.token_bytes(12)
    ct = AESGCM(_kek_bytes(kek)).encrypt(iv, der, f"dive-kas-key:{kid}".encode())
    envelope = {"v": 1, "kid": kid, "alg": "A256GCM", "iv": _b64(iv), "ct": _b64(ct)}
    return json.dumps(envelope, separators=(",", ":"))


def unseal_private_key(kek: str, kid: str, sealed: str) -> rsa.RSAPrivateKey:
    """The key, or `KeyStoreError` when the envelope is malformed, for another kid, or does not authenticate."""
    try:
        envelope = json.loads(sealed)
        if envelope.get("v") != 1 or envelope.get("alg") != "A256GCM" or envelope.get("kid") != kid:
            raise ValueError("unexpected envelope version, algorithm or kid")
        der = AESGCM(_kek_bytes(kek)).decrypt(
            base64.b64decode(envelope["iv"]), base64.b64decode(envelope["ct"]), f"dive-kas-key:{kid}".encode()
        )
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidTag) as exc:
        raise KeyStoreError("kas_key_store_invalid", f"the sealed private key {kid} cannot be unsealed") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyStoreError("kas_key_store_invalid", f"the sealed key {kid} is not an RSA key")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
