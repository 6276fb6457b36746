"""Seed document generation (spec/abac.md §7): determinism, ids, distributions, templates, titles and shares."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache

import pytest

from dive.domain import EU_27, parse_rfc3339, primary_term
from dive.seed import MAX_COUNT, SeedCountError, SeedDocument, SeedOptionsError, seed_documents, seed_label
from dive.seed.documents import NEUTRAL_PREFIXES, PREFIXES, SUBJECTS
from dive.seed.templates import COALITION_TEMPLATES, coalition_pool, home_pool

from .helpers import AS_OF, TEST_CODE

SAMPLE = 5000


@cache
def _corpus(inst: str, count: int = SAMPLE) -> tuple[SeedDocument, ...]:
    return tuple(seed_documents("dive", inst, count, AS_OF))


def _u64(seed: str, inst: str, i: int, purpose: str) -> int:
    """§7.1, written out independently of the implementation."""
    return int.from_bytes(hashlib.sha256(f"{seed}|{inst}|{i}|{purpose}".encode()).digest()[:8], "big")


def test_same_inputs_give_identical_documents() -> None:
    first = [(d.label, d.title, d.body, d.template) for d in seed_documents("dive", "FRA", 50, AS_OF)]
    again = [(d.label, d.title, d.body, d.template) for d in seed_documents("dive", "fra", 50, AS_OF)]
    assert first == again


def test_first_n_of_a_larger_run_equal_a_run_of_n() -> None:
    assert list(seed_documents("dive", "DEU", 40, AS_OF)) == list(seed_documents("dive", "DEU", 400, AS_OF))[:40]


def test_another_seed_gives_other_documents() -> None:
    ours = [d.label for d in seed_documents("dive", "DEU", 30, AS_OF)]
    theirs = [d.label for d in seed_documents("exercise-7", "DEU", 30, AS_OF)]
    assert ours != theirs


def test_classification_and_title_follow_the_u64_draws() -> None:
    levels = ["UNCLASSIFIED"] * 20 + ["RESTRICTED"] * 15 + ["CONFIDENTIAL"] * 25 + ["SECRET"] * 25 + ["TOP_SECRET"] * 15
    for i in (1, 2, 77, 4321):
        document = seed_label("dive", "GBR", i, AS_OF)
        assert document.label["classification"] == levels[_u64("dive", "GBR", i, "classification") % 100]
        prefix = PREFIXES["GBR"][_u64("dive", "GBR", i, "prefix") % 9]
        assert document.title == f"{prefix} - {SUBJECTS[_u64('dive', 'GBR', i, 'subject') % 20]} {i}"
        age = _u64("dive", "GBR", i, "age") % 31_536_000
        assert document.label["creationDate"] == (AS_OF - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_resource_ids_have_the_instance_and_five_digits() -> None:
    ids = [d.resource_id for d in _corpus("EST", 12)]
    assert ids[0] == "doc-EST-seed-00001" and ids[11] == "doc-EST-seed-00012"
    assert seed_label("dive", "est", MAX_COUNT, AS_OF).resource_id == "doc-EST-seed-20000"


@pytest.mark.parametrize("count", [0, -1, MAX_COUNT + 1, 2.5, True])
def test_a_count_outside_one_to_twenty_thousand_is_rejected(count: object) -> None:
    with pytest.raises(SeedCountError, match=r"1\.\.20,000") as err:
        seed_documents("dive", "USA", count, AS_OF)  # type: ignore[arg-type]
    assert err.value.code == "seed_count_invalid"


@pytest.mark.parametrize("count", [1, MAX_COUNT])
def test_the_count_bounds_are_inclusive(count: int) -> None:
    documents = seed_documents("dive", "USA", count, AS_OF)
    assert next(documents).index == 1


def test_a_naive_as_of_time_is_rejected() -> None:
    with pytest.raises(SeedOptionsError) as err:
        seed_label("dive", "USA", 1, datetime(2026, 3, 1, 12, 0, 0))
    assert err.value.code == "seed_options_invalid"


def test_as_of_in_another_zone_and_with_microseconds_gives_the_same_documents() -> None:
    shifted = AS_OF.astimezone(timezone(timedelta(hours=2))).replace(microsecond=999_999)
    assert seed_label("dive", "FRA", 9, shifted) == seed_label("dive", "FRA", 9, AS_OF)


def test_creation_dates_are_within_the_year_before_as_of_and_never_later() -> None:
    dates = [parse_rfc3339(d.label["creationDate"]) for d in _corpus("USA", 500)]
    assert all(AS_OF - timedelta(days=365) < date <= AS_OF for date in dates if date is not None)
    assert None not in dates


def test_classification_distribution_matches_the_table_on_five_thousand() -> None:
    counts = Counter(d.label["classification"] for d in _corpus("USA"))
    expected = {"UNCLASSIFIED": 0.20, "RESTRICTED": 0.15, "CONFIDENTIAL": 0.25, "SECRET": 0.25, "TOP_SECRET": 0.15}
    for level, share in expected.items():
        assert abs(counts[level] / SAMPLE - share) < 0.025, (level, counts[level])


def test_hub_template_shares_match_the_effective_weights() -> None:
    pool = coalition_pool("USA")
    total = sum(entry.weight for entry in pool)
    counts = Counter(d.template for d in _corpus("USA"))
    assert set(counts) <= {entry.template.id for entry in pool}
    for entry in pool:
        assert abs(counts[entry.template.id] / SAMPLE - entry.weight / total) < 0.015, entry.template.id
    assert round(100 * pool[0].weight / total, 1) == 3.2  # C01's "hub share" column
    industry = sum(1 for d in _corpus("USA") if d.label["releasableToIndustry"])
    assert abs(industry / SAMPLE - 0.38) < 0.03


def test_affinity_weighs_coalition_templates_listing_the_instance_three_halves() -> None:
    weights = {entry.template.id: entry.weight for entry in coalition_pool("FRA")}
    assert weights["C05"] == 36 * 3 and weights["C04"] == 37 * 2 and weights["C11"] == 50 * 3


def test_eu_restricted_is_seeded_only_on_eu_members() -> None:
    assert all("C11" not in {e.template.id for e in coalition_pool(code)} for code in ["USA", "NOR", "TUR", "AUS"])
    assert all("C11" in {e.template.id for e in coalition_pool(code)} for code in EU_27)
    assert "C11" not in {d.template for d in _corpus("NOR")}
    assert "C11" in {d.template for d in _corpus("EST")}


def test_the_hub_draws_only_coalition_templates() -> None:
    assert {d.template for d in _corpus("USA")} <= {t.id for t in COALITION_TEMPLATES}


def test_a_spoke_draws_half_of_its_documents_from_the_home_pool() -> None:
    home = sum(1 for d in _corpus("EST") if d.template.startswith("H"))
    assert abs(home / SAMPLE - 0.5) < 0.03


def test_home_templates_of_a_nato_spoke() -> None:
    templates = {entry.template.id: entry for entry in home_pool("EST")}
    assert [(i, templates[i].weight) for i in templates] == [("H1", 4), ("H2", 2), ("H3", 2), ("H4", 2)]
    assert templates["H1"].template.releasability == ("EST",)
    assert templates["H2"].template.releasability == ("EST", "USA")
    assert templates["H3"].template.cois == ("NATO",) and len(templates["H3"].template.releasability) == 32
    assert not templates["H3"].template.industry and templates["H4"].template.industry


def test_a_spoke_without_home_community_has_a_heavier_national_template() -> None:
    assert [(e.template.id, e.weight) for e in home_pool("JPN")] == [("H1", 8), ("H2", 2)]


@pytest.mark.parametrize(
    ("inst", "expected"), [("EST", 0.612), ("NOR", 0.587), ("TUR", 0.587), ("AUS", 0.713), ("JPN", 0.580)]
)
def test_own_country_share_meets_the_floor_and_the_expectation(inst: str, expected: float) -> None:
    share = sum(1 for d in _corpus(inst) if inst in d.label["releasabilityTo"]) / SAMPLE
    assert share >= 0.45
    assert abs(share - expected) < 0.03


def test_own_country_share_of_a_test_code_is_about_half() -> None:
    share = sum(1 for d in _corpus(TEST_CODE) if TEST_CODE in d.label["releasabilityTo"]) / SAMPLE
    assert share >= 0.45


def test_every_hub_document_is_releasable_to_the_hub() -> None:
    assert all("USA" in d.label["releasabilityTo"] for d in _corpus("USA"))


def test_label_fields_are_written_explicitly_in_policy_names() -> None:
    document = seed_label("dive", "EST", 3, AS_OF)
    assert set(document.label) == {
        "classification",
        "originalClassification",
        "originalCountry",
        "releasabilityTo",
        "COI",
        "coiOperator",
        "caveats",
        "releasableToIndustry",
        "creationDate",
    }
    assert document.label["originalCountry"] == "EST"
    assert document.label["originalClassification"] == primary_term("EST", document.label["classification"])
    assert document.ztdf_label.originator_country == "EST"
    assert document.ztdf_label.releasable_to == tuple(document.label["releasabilityTo"])


def test_releasability_lists_are_sorted_ascending() -> None:
    assert all(d.label["releasabilityTo"] == sorted(d.label["releasabilityTo"]) for d in _corpus("FRA", 500))


def test_noforn_appears_only_on_the_us_only_template() -> None:
    noforn = {d.template for d in _corpus("USA") if d.label["caveats"]}
    assert noforn == {"C01"}


def test_spokes_without_their_own_prefixes_use_the_neutral_list() -> None:
    prefixes = {d.title.split(" - ")[0] for d in _corpus("EST", 300)}
    assert prefixes == set(NEUTRAL_PREFIXES)


def test_the_body_is_a_marked_memo_naming_the_document() -> None:
    document = seed_label("dive", "FRA", 17, AS_OF)
    lines = document.body.splitlines()
    assert lines[0] == lines[-1] and re.fullmatch(r"[A-Z ]+(//.+)?//REL .+", lines[0])
    assert document.title in lines and f"Reference: {document.resource_id}" in lines
    assert document.summary in document.body
    assert document.plaintext == document.body.encode("utf-8")
