"""The KAS's loaded keys by kid (spec/ztdf-kas.md §8 step 12, §10): active and retired unwrap, revoked refuse."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.kas.errors import KeyStoreError

__all__ = ["KasKeyPair", "KeyRing", "KeyStatus", "public_key_fingerprint", "public_key_pem"]

KeyStatus = Literal["active", "retired", "revoked"]


def public_key_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_fingerprint(key: rsa.RSAPublicKey) -> str:
    """Hex SHA-256 of the SPKI DER (§9.1)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class KasKeyPair:
    kid: str
    status: KeyStatus
    created_at: datetime
    public_key: rsa.RSAPublicKey = field(repr=False)
    private_key: rsa.RSAPrivateKey | None = field(default=None, repr=False)  # None once revoked

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self.public_key)


class KeyRing:
    """Immutable view of the keys; a reload builds a new ring and swaps it in one assignment."""

    def __init__(self, keys: Iterable[KasKeyPair]) -> None:
        self._by_kid = {key.kid: key for key in keys}
        active = [key for key in self._by_kid.values() if key.status == "active"]
        if len(active) != 1:
            raise KeyStoreError(
                "kas_no_active_key",
                f"the KAS has {len(active)} active keys; exactly one is required — run `dive kas rotate <code>`",
            )
        self.active = active[0]
        usable = [key for key in self._by_kid.values() if key.status != "revoked"]
        self._newest_first = sorted(usable, key=lambda key: key.created_at, reverse=True)

    def get(self, kid: str) -> KasKeyPair | None:
        return self._by_kid.get(kid)

    def kidless_candidates(self, limit: int) -> list[KasKeyPair]:
        """Keys tried for a KAO without a kid: non-revoked, newest first, at most `limit` (§8 step 12)."""
        return self._newest_first[:limit]

    def count(self, status: KeyStatus) -> int:
        return sum(1 for key in self._by_kid.values() if key.status == status)

    def __iter__(self) -> Iterator[KasKeyPair]:
        return iter(self._by_kid.values())
