"""Byte-level primitives of ZTDF (spec/ztdf-kas.md §3.1–§3.5): DEK and shares, segments, HMAC, RSA-OAEP."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import reduce

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .encoding import b64decode, b64encode
from .errors import KeyUnwrapError, UnsupportedError

__all__ = [
    "DEK_BYTES",
    "IV_BYTES",
    "SEGMENT_OVERHEAD",
    "TAG_BYTES",
    "InvalidTag",
    "decrypt_segment",
    "encrypt_segment",
    "hmac_sha256",
    "load_private_key",
    "load_public_key",
    "new_dek",
    "new_iv",
    "split_dek",
    "unwrap_split_key",
    "wrap_split_key",
    "xor_keys",
]

DEK_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
SEGMENT_OVERHEAD = IV_BYTES + TAG_BYTES

# SHA-1 OAEP is what every OpenTDF SDK and KAS use (§3.5); SHA-256 would not interoperate.
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def new_dek() -> bytes:
    return secrets.token_bytes(DEK_BYTES)


def xor_keys(keys: list[bytes]) -> bytes:
    return reduce(lambda a, b: bytes(x ^ y for x, y in zip(a, b, strict=True)), keys)


def split_dek(dek: bytes, shares: int) -> list[bytes]:
    """allOf shares S1..Sn with S1 ⊕ … ⊕ Sn = DEK (§3.1); one share is the DEK itself."""
    randoms = [secrets.token_bytes(DEK_BYTES) for _ in range(shares - 1)]
    return [*randoms, xor_keys([dek, *randoms])]


def new_iv() -> bytes:
    """12 random bytes per segment; with ≤ 32768 segments per DEK random IVs are safe (§3.1)."""
    return secrets.token_bytes(IV_BYTES)


def encrypt_segment(aead: AESGCM, iv: bytes, plaintext: bytes) -> bytes:
    """E_i = IV_i ‖ ct_i ‖ tag_i (§3.2)."""
    return iv + aead.encrypt(iv, plaintext, None)


def decrypt_segment(aead: AESGCM, encrypted: bytes) -> bytes:
    """Raises InvalidTag when the segment was altered."""
    return aead.decrypt(encrypted[:IV_BYTES], encrypted[IV_BYTES:], None)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise UnsupportedError(f"the KAS public key is not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedError(f"the KAS public key is {type(key).__name__}; only RSA keys wrap ZTDF keys")
    return key


def load_private_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise UnsupportedError(f"the private key is not a readable PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnsupportedError(f"the private key is {type(key).__name__}; only RSA keys unwrap ZTDF keys")
    return key


def wrap_split_key(public_key: rsa.RSAPublicKey, split_key: bytes) -> str:
    return b64encode(public_key.encrypt(split_key, _OAEP))


def unwrap_split_key(private_key: rsa.RSAPrivateKey, wrapped_key: str) -> bytes:
    """RSA-OAEP-SHA1 unwrap of a KAO's `wrappedKey`; the result must be a 32-byte key."""
    try:
        split_key = private_key.decrypt(b64decode(wrapped_key), _OAEP)
    except ValueError as exc:
        raise KeyUnwrapError("the wrapped key does not decrypt with this private key") from exc
    if len(split_key) != DEK_BYTES:
        raise KeyUnwrapError(f"the unwrapped key has {len(split_key)} bytes; expected {DEK_BYTES}")
    return split_key
