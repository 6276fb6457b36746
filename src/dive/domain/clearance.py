"""Clearance normalization (spec/abac.md §2.4), the same procedure the Rego runs on the same character maps.

`CASE_MAP` and `FOLD_MAP` are generated from the table by the rules of §2.4 and committed in the policy data file
(`dive.policy.static_data`); a test keeps the two identical.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final, TypeGuard

from dive.domain.equivalency import EQUIVALENCY, GENERIC, GENERIC_TERMS
from dive.types import LEVELS, Level

__all__ = [
    "CASE_MAP",
    "EXACT",
    "FOLDED",
    "FOLD_MAP",
    "LEVEL_RANKS",
    "fold",
    "is_level",
    "ladder_for",
    "normalize",
    "primary_term",
    "rank",
    "upper_case",
]

LEVEL_RANKS: Final[Mapping[Level, int]] = {level: index for index, level in enumerate(LEVELS)}

_TRIMMED: Final = " \t\r\n"  # §2.4 step 3: space, tab, CR, LF only (not the no-break space)
_SEPARATORS: Final = (" ", "\u00a0", "-", "_")
_COMBINING_MARKS: Final = range(0x0300, 0x0370)
# §2.4: NFD without combining marks, except these three letters that NFD does not decompose.
_FOLD_EXCEPTIONS: Final[Mapping[str, str]] = {"Æ": "AE", "Ð": "D", "Ł": "L"}


def _ladder_terms(ladder: str) -> dict[str, Level]:
    """Terms of one ladder plus the generic terms, each mapped to its level."""
    row = EQUIVALENCY.get(ladder, {})
    terms: dict[str, Level] = {}
    for level in LEVELS:
        for term in (*row.get(level, ()), *GENERIC_TERMS[level]):
            terms[term] = level
    return terms


def _table_characters() -> frozenset[str]:
    terms = [term for ladder in (*EQUIVALENCY, GENERIC) for term in _ladder_terms(ladder)]
    return frozenset("".join(terms))


def _build_case_map(characters: Iterable[str]) -> dict[str, str]:
    """Every code point whose Python `upper()` is exactly one table character maps to that character."""
    wanted = frozenset(characters)
    case_map: dict[str, str] = {}
    for code_point in range(0x110000):
        char = chr(code_point)
        upper = char.upper()
        if upper != char and upper in wanted:
            case_map[char] = upper
    return dict(sorted(case_map.items()))


def _build_fold_map(characters: Iterable[str]) -> dict[str, str]:
    fold_map = {separator: "" for separator in _SEPARATORS}
    fold_map.update({chr(mark): "" for mark in _COMBINING_MARKS})
    for char in characters:
        if char in _FOLD_EXCEPTIONS:
            fold_map[char] = _FOLD_EXCEPTIONS[char]
            continue
        base = "".join(part for part in unicodedata.normalize("NFD", char) if not unicodedata.combining(part))
        if base != char:
            fold_map[char] = base
    return dict(sorted(fold_map.items()))


def _replace_characters(text: str, mapping: Mapping[str, str]) -> str:
    return "".join(mapping.get(char, char) for char in text)


CASE_MAP: Final[Mapping[str, str]] = _build_case_map(_table_characters())
FOLD_MAP: Final[Mapping[str, str]] = _build_fold_map(_table_characters())


def upper_case(term: str) -> str:
    """§2.4 step 3: trim space, tab, CR and LF, then upper-case through `CASE_MAP`."""
    return _replace_characters(term.strip(_TRIMMED), CASE_MAP)


def fold(term: str) -> str:
    """§2.4 step 5: remove separators and diacritics through `FOLD_MAP`."""
    return _replace_characters(term, FOLD_MAP)


EXACT: Final[Mapping[str, Mapping[str, Level]]] = {
    ladder: _ladder_terms(ladder) for ladder in (*sorted(EQUIVALENCY), GENERIC)
}
FOLDED: Final[Mapping[str, Mapping[str, Level]]] = {
    ladder: {fold(term): level for term, level in terms.items()} for ladder, terms in EXACT.items()
}


def is_level(value: object) -> TypeGuard[Level]:
    """True for the five canonical names exactly (case-sensitive, with the underscore; §2.1)."""
    return isinstance(value, str) and value in LEVEL_RANKS


def rank(level: Level) -> int:
    return LEVEL_RANKS[level]


def ladder_for(country: object) -> str:
    """§2.4 step 2: the country's own row of §2.3, otherwise `GENERIC`."""
    if isinstance(country, str) and country != GENERIC and country in EXACT:
        return country
    return GENERIC


def normalize(term: object, country: object) -> Level | None:
    """The canonical level of a clearance or marking term under `country`'s ladder, or None if unrecognized."""
    if not isinstance(term, str):
        return None
    ladder = ladder_for(country)
    upper = upper_case(term)
    exact = EXACT[ladder].get(upper)
    if exact is not None:
        return exact
    return FOLDED[ladder].get(fold(upper))


def primary_term(country: str, level: Level) -> str:
    """§6.2: the first term of `country`'s cell, or the canonical name for a country without a row."""
    row = EQUIVALENCY.get(country)
    if row is None:
        return level
    return row[level][0]
