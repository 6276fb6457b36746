"""Authentication assurance (spec/abac.md §3.9, D3; the pushdown's `aal_max` of §9.1).

The level comes from `acr` and from the factor *types* in `amr`; counting any two `amr` strings as MFA was upstream's
defect.
"""

from __future__ import annotations

from typing import Final

from dive.domain.inputs import ascii_lower, trim
from dive.types import LEVELS, Level

__all__ = ["aal_from_acr", "aal_from_amr", "aal_max", "effective_aal", "required_aal"]

_ACR_STRINGS: Final = {
    **{str(n): n for n in (1, 2, 3)},
    **{f"aal{n}": n for n in (1, 2, 3)},
    **{f"urn:dive25:aal:{n}": n for n in (1, 2, 3)},
}
_KNOWLEDGE: Final = "pwd"
_POSSESSION: Final = frozenset({"otp", "totp", "sms", "hwk", "webauthn"})
_HARDWARE: Final = frozenset({"hwk", "webauthn"})
_REQUIRED: Final[dict[Level, int]] = {
    "UNCLASSIFIED": 1,
    "RESTRICTED": 1,
    "CONFIDENTIAL": 2,
    "SECRET": 2,
    "TOP_SECRET": 2,
}


def aal_from_acr(acr: object) -> int | None:
    """A JSON number 1–3, or one of the listed strings (trimmed, ASCII-lowercased); anything else gives no level."""
    if isinstance(acr, bool):
        return None
    if isinstance(acr, int | float):
        return int(acr) if acr in (1, 2, 3) else None
    if isinstance(acr, str):
        return _ACR_STRINGS.get(ascii_lower(trim(acr)))
    return None


def aal_from_amr(amr: object) -> int | None:
    """AAL3 with a hardware factor, AAL2 with two distinct factor types, AAL1 for any other non-empty list."""
    if not isinstance(amr, list) or not amr:
        return None
    methods = {ascii_lower(method) for method in amr if isinstance(method, str)}
    if methods & _HARDWARE:
        return 3
    factors = (1 if _KNOWLEDGE in methods else 0) + len(methods & _POSSESSION)
    return 2 if factors >= 2 else 1


def effective_aal(acr: object, amr: object) -> int:
    """The higher of the two levels; AAL1 when neither gives one, since an authenticated session has one factor."""
    levels = [level for level in (aal_from_acr(acr), aal_from_amr(amr)) if level is not None]
    return max(levels, default=1)


def required_aal(level: Level, aal_top_secret: int = 2) -> int:
    """U and R need AAL1, C, S and TS AAL2; the tenant setting `aal_top_secret = 3` raises TS to AAL3."""
    if level == "TOP_SECRET" and aal_top_secret == 3:
        return 3
    return _REQUIRED[level]


def aal_max(aal: int, aal_top_secret: int = 2) -> int:
    """§9.1: the highest rank whose required AAL is at most `aal`."""
    return max((rank for rank, level in enumerate(LEVELS) if required_aal(level, aal_top_secret) <= aal), default=-1)
