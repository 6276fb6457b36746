"""The subject side of the policy (spec/abac.md §3 definitions, §3.2 P1–P6, §3.3 ladder choice).

Inputs are the decoded JSON `input.subject` object; a field of the wrong JSON type counts as absent (§1.2).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Final

from dive.domain.clearance import normalize
from dive.domain.countries import ISO_ALPHA3, is_valid_country
from dive.domain.inputs import ascii_upper, is_present, render_value, string_set, trim
from dive.types import Level

__all__ = [
    "ORGANIZATION_TYPES",
    "clearance_ladder",
    "is_industry",
    "organization_type",
    "subject_cois",
    "subject_level",
    "subject_problems",
]

ORGANIZATION_TYPES: Final = ("GOV", "MIL", "INDUSTRY")


def organization_type(subject: Mapping[str, object]) -> str:
    """§3 `org`: the trimmed, ASCII-uppercased `organizationType` when present, otherwise `GOV` (may be invalid)."""
    value = subject.get("organizationType")
    return ascii_upper(trim(value)) if isinstance(value, str) and is_present(value) else "GOV"


def is_industry(org: str) -> bool:
    """Checks 10 and 11 treat an `org` outside GOV, MIL and INDUSTRY as INDUSTRY (fail closed)."""
    return org not in ("GOV", "MIL")


def clearance_ladder(subject: Mapping[str, object]) -> object:
    """§3.3 `L_s`: `clearanceCountry` when present, otherwise `countryOfAffiliation`, both as given."""
    clearance_country = subject.get("clearanceCountry")
    return clearance_country if is_present(clearance_country) else subject.get("countryOfAffiliation")


def subject_level(subject: Mapping[str, object]) -> Level | None:
    """§3.3 `slevel`: the subject's clearance under its ladder, or None when unrecognized."""
    return normalize(subject.get("clearance"), clearance_ladder(subject))


def subject_cois(subject: Mapping[str, object]) -> frozenset[str]:
    """§3 `SC`: the strings of `acpCOI` when it is a list."""
    return string_set(subject.get("acpCOI"))


def subject_problems(subject: Mapping[str, object], valid: Container[str] = ISO_ALPHA3) -> list[str]:
    """The problem texts P1–P6 of §3.2, in order; `valid` is the set of valid country codes."""
    problems: list[str] = []
    if not is_present(subject.get("uniqueID")):
        problems.append("your account has no unique identifier (uniqueID)")
    if not is_present(subject.get("clearance")):
        problems.append("your account has no clearance")
    country = subject.get("countryOfAffiliation")
    if not is_present(country):
        problems.append("your account has no country of affiliation")
    elif not is_valid_country(country, valid):
        problems.append(f"your country of affiliation '{country}' is not a valid ISO 3166-1 alpha-3 code")
    org = subject.get("organizationType")
    if org is not None and org != "" and (not isinstance(org, str) or ascii_upper(trim(org)) not in ORGANIZATION_TYPES):
        problems.append(f"your organization type '{render_value(org)}' is not one of GOV, MIL, INDUSTRY")
    cois = subject.get("acpCOI")
    if cois is not None and not isinstance(cois, list):
        problems.append("your community memberships (acpCOI) are not a list")
    return problems
