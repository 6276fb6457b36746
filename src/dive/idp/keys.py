"""Realm signing keys (§A.2): RSA-2048/RS256 with kid = RFC 7638 thumbprint, plus an HS512 secret for refresh
tokens that rotates with the RSA key. Rotation is a pure decision; the repository stores keys sealed."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import OctKey, RSAKey

__all__ = [
    "KeyStatus",
    "SigningKey",
    "generate_signing_key",
    "jwks_document",
    "keys_metadata",
    "plan_rotation",
    "public_key_base64",
]

KeyStatus = Literal["ACTIVE", "PASSIVE"]
RSA_BITS = 2048
PROVIDER_PRIORITY = 100


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    kid: str
    status: KeyStatus
    private_pem: bytes
    hs512_secret: bytes
    created_at: datetime
    passive_since: datetime | None = None

    @cached_property
    def rsa(self) -> RSAKey:
        return RSAKey.import_key(self.private_pem, {"kid": self.kid, "alg": "RS256", "use": "sig"})

    @cached_property
    def hs512(self) -> OctKey:
        return OctKey.import_key(self.hs512_secret, {"kid": self.kid, "alg": "HS512"})

    def public_jwk(self) -> dict[str, str]:
        public = self.rsa.as_dict(private=False)
        return {"kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": public["n"], "e": public["e"]}


def generate_signing_key(now: datetime) -> SigningKey:
    rsa = RSAKey.generate_key(RSA_BITS, auto_kid=False)
    return SigningKey(
        kid=rsa.thumbprint(),
        status="ACTIVE",
        private_pem=rsa.as_pem(private=True),
        hs512_secret=secrets.token_bytes(64),
        created_at=now,
    )


def plan_rotation(
    keys: Sequence[SigningKey], *, now: datetime, rotation_days: int, retention_hours: int, force: bool = False
) -> tuple[list[SigningKey], list[str]]:
    """Return (keys to upsert, kids to delete). A rotation demotes the active key to PASSIVE and adds a new one;
    passive keys older than the retention are removed."""
    upserts: list[SigningKey] = []
    retention = timedelta(hours=retention_hours)
    expired = [k.kid for k in keys if k.status == "PASSIVE" and k.passive_since and now - k.passive_since >= retention]
    active = [k for k in keys if k.status == "ACTIVE"]
    if force or not active or now - active[0].created_at >= timedelta(days=rotation_days):
        upserts.extend(replace(k, status="PASSIVE", passive_since=now) for k in active)
        upserts.append(generate_signing_key(now))
    return upserts, expired


def jwks_document(keys: Sequence[SigningKey]) -> dict[str, list[dict[str, str]]]:
    ordered = sorted(keys, key=lambda k: k.status != "ACTIVE")
    return {"keys": [k.public_jwk() for k in ordered]}


def public_key_base64(key: SigningKey) -> str:
    """Base64 DER SubjectPublicKeyInfo without PEM armour (Keycloak's realm `public_key`)."""
    public = serialization.load_pem_private_key(key.private_pem, password=None).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def keys_metadata(keys: Sequence[SigningKey]) -> dict[str, object]:
    active = next((k.kid for k in keys if k.status == "ACTIVE"), None)
    return {
        "active": {"RS256": active} if active else {},
        "keys": [
            {
                "kid": k.kid,
                "algorithm": "RS256",
                "type": "RSA",
                "use": "SIG",
                "status": k.status,
                "publicKey": public_key_base64(k),
                "providerPriority": PROVIDER_PRIORITY,
            }
            for k in keys
        ],
    }
