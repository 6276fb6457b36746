"""TOTP (RFC 6238: SHA1, 6 digits, 30 s) with a ±1 step window and per-user replay refusal (§A.7)."""

from __future__ import annotations

import base64
import hmac
import secrets

import pyotp

__all__ = ["DIGITS", "PERIOD", "generate_totp_secret", "provisioning_uri", "verify_totp"]

DIGITS = 6
PERIOD = 30
WINDOW = 1


def generate_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(name=username, issuer_name=issuer)


def verify_totp(secret: str, code: str, *, now: float, last_used_step: int | None) -> int | None:
    """Return the accepted time step, or None. A step at or before `last_used_step` is a replay and refused."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int(now) // PERIOD
    for step in range(current - WINDOW, current + WINDOW + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * PERIOD), code):
            return step
    return None
