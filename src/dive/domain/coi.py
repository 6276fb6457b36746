"""Communities of interest (spec/abac.md §5.1): the seed of the COI registry and the fixed coherence pairs (§3.12)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final

from dive.domain.countries import EU_27, FVEY_5, NATO_32
from dive.types import CountryCode

__all__ = ["ANY_CONTAINMENT_PAIRS", "COI_MEMBERS", "PROGRAM_COIS", "cois_of_country", "home_community"]


def _codes(text: str) -> tuple[CountryCode, ...]:
    return tuple(CountryCode(code) for code in text.split())


# Program COIs have no members: membership is by individual assignment only (mixed case on purpose).
PROGRAM_COIS: Final = ("Alpha", "Beta", "Gamma")

COI_MEMBERS: Final[Mapping[str, tuple[CountryCode, ...]]] = {
    "US-ONLY": _codes("USA"),
    "CAN-US": _codes("CAN USA"),
    "GBR-US": _codes("GBR USA"),
    "FRA-US": _codes("FRA USA"),
    "DEU-US": _codes("DEU USA"),
    "FVEY": FVEY_5,
    "NATO": NATO_32,
    "NATO-COSMIC": NATO_32,
    "EU-RESTRICTED": EU_27,
    "AUKUS": _codes("AUS GBR USA"),
    "QUAD": _codes("USA AUS IND JPN"),
    "NORTHCOM": _codes("USA CAN MEX"),
    "EUCOM": _codes("USA DEU GBR FRA ITA ESP POL"),
    "PACOM": _codes("USA JPN KOR AUS NZL PHL"),
    "CENTCOM": _codes("USA SAU ARE QAT KWT BHR JOR EGY"),
    "SOCOM": _codes("USA GBR CAN AUS NZL"),
    **{coi: () for coi in PROGRAM_COIS},
}

# §3.12 V5: with operator ANY, the first COI must not be combined with the second, which contains it.
ANY_CONTAINMENT_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("CAN-US", "FVEY"),
    ("GBR-US", "FVEY"),
    ("AUKUS", "FVEY"),
    ("NATO-COSMIC", "NATO"),
)


def home_community(country: str) -> str | None:
    """§6.1 *H*: `NATO` for the NATO-32, `FVEY` for AUS and NZL, otherwise none."""
    if country in NATO_32:
        return "NATO"
    if country in FVEY_5:
        return "FVEY"
    return None


def cois_of_country(country: str, members: Mapping[str, Collection[str]] = COI_MEMBERS) -> tuple[str, ...]:
    """The registry COIs whose member list contains `country`, sorted by code point."""
    return tuple(sorted(coi for coi, codes in members.items() if country in codes))
