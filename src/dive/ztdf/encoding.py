"""Base64 and hex forms used in ZTDF manifests (spec/ztdf-kas.md conventions, §3.3, §3.4)."""

from __future__ import annotations

import base64
import binascii
import hmac

__all__ = ["b64decode", "b64encode", "b64url_decode", "b64url_encode", "is_hex_form", "matches_raw_or_hex"]

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard-alphabet base64; raises ValueError on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not base64: {exc}") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not base64url: {exc}") from exc


def is_hex_form(stored: bytes, raw_length: int) -> bool:
    """True when `stored` is the ASCII hex of a `raw_length`-byte value (the legacy OpenTDF form)."""
    return len(stored) == 2 * raw_length and all(b in _HEX_DIGITS for b in stored)


def matches_raw_or_hex(stored: bytes, expected: bytes) -> bool:
    """Constant-time check that `stored` is `expected` in raw or in hex form; any other shape fails."""
    if len(stored) == len(expected):
        return hmac.compare_digest(stored, expected)
    if is_hex_form(stored, len(expected)):
        return hmac.compare_digest(stored.lower(), expected.hex().encode("ascii"))
    return False
