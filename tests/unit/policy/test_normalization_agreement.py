"""Python `dive.domain.clearance.normalize` and the Rego normalization agree (spec/abac.md §2.4).

The Rego side runs through an extra module loaded beside `dive.*`, so thousands of terms cost one query.
"""

from __future__ import annotations

import unicodedata

import pytest

from dive.domain.clearance import EXACT, normalize
from dive.policy import PolicyBundle, build_data
from dive.policy.engines import RegopyEngine

PROBE_MODULE = """package dive_probe

import rego.v1

level_of(pair) := data.dive.normalization.normalize(pair[0], pair[1])

results := [result | some pair in input.pairs; result := _result(pair)]

_result(pair) := level_of(pair) if {
\tlevel_of(pair)
} else := null
"""


@pytest.fixture(scope="module")
def probe_engine(policy_bundle: PolicyBundle) -> RegopyEngine:
    return RegopyEngine(policy_bundle, build_data(policy_bundle.static_data), {"probe.rego": PROBE_MODULE})


def _variants(term: str) -> list[str]:
    nfd = unicodedata.normalize("NFD", term)
    stripped = "".join(char for char in nfd if not unicodedata.combining(char))
    return [
        term,
        term.lower(),
        term.title(),
        nfd,
        nfd.lower(),
        stripped,
        term.replace(" ", "-"),
        term.replace(" ", "_").lower(),
        term.replace(" ", ""),
        f"  {term}\t\n",
        term.replace(" ", "\u00a0"),
        f"{term}X",
    ]


def _pairs() -> list[list[str]]:
    ladders = sorted(EXACT)
    pairs = []
    for ladder in ladders:
        for term in EXACT[ladder]:
            pairs.extend([variant, ladder] for variant in _variants(term))
    # Terms under foreign ladders and garbage: mostly unrecognized, which must agree too.
    pairs.extend([term, "FRA"] for term in EXACT["DEU"])
    pairs.extend([term, "JPN"] for term in EXACT["USA"])
    pairs.extend([["", "USA"], ["SECRET", ""], ["ı", "TUR"], ["GEHEIM", "GENERIC"]])
    return pairs


def test_python_and_rego_normalization_agree_on_every_table_term_and_variant(probe_engine: RegopyEngine) -> None:
    pairs = _pairs()
    assert len(pairs) > 5000
    rego_levels = probe_engine.query("dive_probe/results", {"pairs": pairs}).value
    python_levels = [normalize(term, ladder) for term, ladder in pairs]
    disagreements = [
        (pair, python, rego)
        for pair, python, rego in zip(pairs, python_levels, rego_levels, strict=True)
        if python != rego
    ]
    assert disagreements == []
    assert python_levels.count(None) > 100  # the garbage really is unrecognized, on both sides


@pytest.mark.parametrize(
    ("term", "ladder", "level"),
    [
        (" secret défense ", "FRA", "SECRET"),
        ("secret_défense", "FRA", "SECRET"),
        ("GEHEIM", "FRA", None),
        ("NATO_SECRET", "JPN", "SECRET"),
        ("TOP SECRET", "GBR", "TOP_SECRET"),
        ("COSMIC-TOP-SECRET", "USA", "TOP_SECRET"),
        ("TOP  SECRET", "NZL", "TOP_SECRET"),
    ],
)
def test_rego_normalization_gives_the_spec_examples(
    probe_engine: RegopyEngine, term: str, ladder: str, level: str
) -> None:
    assert probe_engine.query("dive_probe/results", {"pairs": [[term, ladder]]}).value == [level]
