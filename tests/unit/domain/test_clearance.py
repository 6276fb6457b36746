"""spec/abac.md §2: the equivalency table, the normalization procedure and its character maps."""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dive.domain.clearance import (
    CASE_MAP,
    EXACT,
    FOLD_MAP,
    FOLDED,
    fold,
    ladder_for,
    normalize,
    primary_term,
    rank,
    upper_case,
)
from dive.domain.equivalency import EQUIVALENCY, GENERIC, GENERIC_TERMS
from dive.types import LEVELS

TABLE_CASES = [
    (ladder, term, level)
    for ladder, row in EQUIVALENCY.items()
    for level, terms in row.items()
    for term in (*terms, *GENERIC_TERMS[level])
]
SEPARATORS = (" ", "-", "_", "\u00a0")


def _table_pairs(ladder: str) -> list[tuple[str, str]]:
    row = EQUIVALENCY.get(ladder, {})
    return [(term, level) for level in LEVELS for term in (*row.get(level, ()), *GENERIC_TERMS[level])]


def test_equivalency_table_has_the_spec_ladders_and_every_level():
    assert len(EQUIVALENCY) == 36
    assert {"NATO", "INDUSTRY", "AUS", "NZL", "USA"} <= set(EQUIVALENCY)
    assert all(tuple(row) == LEVELS and all(row.values()) for row in EQUIVALENCY.values())


@pytest.mark.parametrize(("ladder", "term", "level"), TABLE_CASES)
def test_every_table_term_normalizes_to_its_level_under_its_own_ladder(ladder, term, level):
    assert normalize(term, ladder) == level


@pytest.mark.parametrize("country", [GENERIC, "JPN", "UKR", "XYZ", None, 7])
def test_generic_terms_normalize_under_every_ladder_including_generic(country):
    for level, terms in GENERIC_TERMS.items():
        assert all(normalize(term, country) == level for term in terms)


@pytest.mark.parametrize(
    ("term", "country", "expected"),
    [
        (" secret défense ", "FRA", "SECRET"),
        ("secret_défense", "FRA", "SECRET"),
        ("GEHEIM", "FRA", None),
        ("GEHEIM", "DEU", "SECRET"),
        ("NATO_SECRET", "ITA", "SECRET"),
        ("NATO_SECRET", "XYZ", "SECRET"),
        ("TOP SECRET", "GBR", "TOP_SECRET"),
        ("COSMIC-TOP-SECRET", "NZL", "TOP_SECRET"),
        ("TOP  SECRET", "CAN", "TOP_SECRET"),
        ("protected b", "CAN", "CONFIDENTIAL"),
        ("OFFICIAL: SENSITIVE", "AUS", "RESTRICTED"),
        ("DOVERЛIVO", "MKD", "CONFIDENTIAL"),
        ("doverlivo", "MKD", "CONFIDENTIAL"),
        ("\u00a0SECRET", "USA", "SECRET"),  # the no-break space is not trimmed but folds away
        ("GEHEIM", "generic", None),  # ladder lookup is exact and case-sensitive
        ("SUPER SECRET", "USA", None),
        ("", "USA", None),
    ],
)
def test_normalize_matches_spec_examples(term, country, expected):
    assert normalize(term, country) == expected


@pytest.mark.parametrize("term", [None, 3, ["SECRET"], {"SECRET": True}, True])
def test_normalize_of_a_non_string_is_unrecognized(term):
    assert normalize(term, "USA") is None


def test_a_term_valid_only_in_other_ladders_is_unrecognized_under_generic():
    assert normalize("GEHEIM", "JPN") is None
    assert ladder_for("JPN") == GENERIC
    assert ladder_for(GENERIC) == GENERIC
    assert ladder_for("FRA") == "FRA"


@pytest.mark.parametrize("ladder", [*EQUIVALENCY, GENERIC])
def test_within_a_ladder_no_term_or_folded_key_maps_to_two_levels(ladder):
    exact: dict[str, set[str]] = defaultdict(set)
    folded: dict[str, set[str]] = defaultdict(set)
    for term, level in _table_pairs(ladder):
        exact[term].add(level)
        folded[fold(term)].add(level)
    assert {term: levels for term, levels in exact.items() if len(levels) > 1} == {}
    assert {key: levels for key, levels in folded.items() if len(levels) > 1} == {}


def test_no_spelling_exact_or_folded_means_different_levels_in_two_ladders():
    meanings: dict[str, set[str]] = defaultdict(set)
    for ladder in EQUIVALENCY:
        for term, level in _table_pairs(ladder):
            meanings[term].add(level)
            meanings[fold(term)].add(level)
    assert {spelling: levels for spelling, levels in meanings.items() if len(levels) > 1} == {}


def test_committed_exact_and_folded_tables_cover_every_ladder_plus_generic():
    assert set(EXACT) == set(FOLDED) == {*EQUIVALENCY, GENERIC}
    assert EXACT[GENERIC] == {term: level for level, terms in GENERIC_TERMS.items() for term in terms}


@pytest.mark.parametrize(("name", "mapping"), [("case_map", CASE_MAP), ("fold_map", FOLD_MAP)])
def test_no_value_of_a_character_map_contains_a_key_of_the_same_map(name, mapping):
    offending = {key: value for key, value in mapping.items() if any(char in mapping for char in value)}
    assert offending == {}, name


def test_case_map_covers_the_lower_case_of_every_table_letter_and_oddities():
    letters = {char for _, term, _ in TABLE_CASES for char in term if char.lower() != char}
    assert all(CASE_MAP[char.lower()] == char for char in letters if len(char.lower()) == 1)
    assert CASE_MAP["ı"] == "I"
    assert CASE_MAP["ς"] == CASE_MAP["σ"] == "Σ"
    assert all(len(key) == 1 and len(value) == 1 and key != value for key, value in CASE_MAP.items())


def test_fold_map_is_the_spec_list_plus_separators_and_combining_marks():
    accented = {key: value for key, value in FOLD_MAP.items() if value}
    assert accented == dict(
        zip(
            "ÁÃÄÆÇÈÉËÍÐÓÔÖÚÜĀĂČĚİĶŁŘŚŠŮŰŻŽȚΆΈΌ",
            [*"AAA", "AE", *"CEEEIDOOOUUAACEIKLRSSUUZZT", "Α", "Ε", "Ο"],
            strict=True,
        )
    )
    removed = {key for key, value in FOLD_MAP.items() if not value}
    assert removed == {" ", "\u00a0", "-", "_", *map(chr, range(0x0300, 0x0370))}


def test_upper_case_trims_only_ascii_whitespace_and_maps_case():
    assert upper_case(" \t\r\nsecret défense\n") == "SECRET DÉFENSE"
    assert upper_case("\u00a0s") == "\u00a0S"
    assert upper_case("x") == "x"  # no table term has an X, so case_map leaves it alone


@pytest.mark.parametrize("country", [*(c for c in EQUIVALENCY if c != "NATO"), "JPN", "KOR", "ISR", "UKR", "QQQ"])
def test_primary_terms_normalize_to_their_column(country):
    for level in LEVELS:
        assert normalize(primary_term(country, level), country) == level


def test_primary_terms_match_spec_samples():
    assert primary_term("DEU", "RESTRICTED") == "VS-NUR FÜR DEN DIENSTGEBRAUCH"
    assert primary_term("FRA", "TOP_SECRET") == "TRÈS SECRET"
    assert primary_term("JPN", "TOP_SECRET") == "TOP_SECRET"
    assert primary_term("INDUSTRY", "RESTRICTED") == "INTERNAL"


def test_rank_follows_the_canonical_ladder():
    assert [rank(level) for level in LEVELS] == [0, 1, 2, 3, 4]


# --- generated variants (§2.4): random case, NFD, separators added and removed, diacritics removed ---

TERMS = st.sampled_from(TABLE_CASES)


def _random_case(draw, text: str) -> str:
    lower = text.lower()  # may be longer: "İ".lower() is "i" + U+0307
    flips = draw(st.lists(st.booleans(), min_size=len(lower), max_size=len(lower)))
    return "".join(char.upper() if flip else char for char, flip in zip(lower, flips, strict=True))


@st.composite
def variants(draw):
    ladder, term, level = draw(TERMS)
    variant = _random_case(draw, term)
    if draw(st.booleans()):
        variant = unicodedata.normalize("NFD", variant)
    if draw(st.booleans()):
        variant = "".join(char for char in unicodedata.normalize("NFD", variant) if not unicodedata.combining(char))
    if draw(st.booleans()):
        variant = "".join(char for char in variant if char not in SEPARATORS)
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(variant)))
        variant = variant[:position] + draw(st.sampled_from(SEPARATORS)) + variant[position:]
    padding = draw(st.sampled_from(["", " ", "\t", "\n ", "\r\n"]))
    return ladder, padding + variant + padding, level


@settings(max_examples=400, deadline=None)
@given(variants())
def test_variants_of_a_table_term_normalize_to_the_same_level(case):
    ladder, variant, level = case
    assert normalize(variant, ladder) == level


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.sampled_from([*EQUIVALENCY, GENERIC, "XYZ"]))
def test_normalize_of_any_text_is_a_level_or_unrecognized(term, ladder):
    assert normalize(term, ladder) in (*LEVELS, None)
