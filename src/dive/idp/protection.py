"""Encryption at rest with the data-protection key (§0.4, §A.2): AES-256-GCM, random 96-bit nonce."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dive.idp.errors import IdpError

__all__ = ["DataProtector", "decode_protection_key"]

_NONCE = 12


def decode_protection_key(value: str) -> bytes:
    """The secret `<c>/data-protection-key` is 32 random bytes, base64url (orchestration §9.2)."""
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise IdpError("protection_key_invalid", "the data-protection key is not base64url") from exc
    if len(key) != 32:
        raise IdpError("protection_key_invalid", f"the data-protection key has {len(key)} bytes; it needs 32")
    return key


class DataProtector:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, sealed: bytes, purpose: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], purpose.encode())
        except InvalidTag as exc:
            raise IdpError("protected_value_invalid", f"a stored {purpose} cannot be decrypted with this key") from exc

    def seal_text(self, plaintext: str, purpose: str) -> str:
        return base64.b64encode(self.seal(plaintext.encode(), purpose)).decode("ascii")

    def open_text(self, sealed: str, purpose: str) -> str:
        return self.open(base64.b64decode(sealed), purpose).decode()
