"""Shared constants and helpers of the seeder tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AS_OF: Final = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TEST_CODE: Final = "XTA"


def issuer_of(code: str) -> str:
    return f"https://localhost:8443/realms/dive-v3-broker-{code.lower()}"


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
