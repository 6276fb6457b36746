"""spec/abac.md §3.12 `labels.check` (P7–P12, equivalency, creationDate, coiOperator, V1–V7) and §9.2 columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dive.domain.labels import check_label, coherence_violations, derive_label_columns, resource_problems

GOOD = {
    "resourceId": "doc-FRA-seed-00001",
    "classification": "SECRET",
    "originalClassification": "SECRET DÉFENSE",
    "originalCountry": "FRA",
    "releasabilityTo": ["FRA", "USA"],
    "COI": ["FRA-US"],
    "coiOperator": "ALL",
    "caveats": [],
    "creationDate": "2025-01-02T03:04:05Z",
    "releasableToIndustry": True,
    "encrypted": True,
}


def _check(strict: bool = True, **changes: object) -> list[str]:
    return check_label({**GOOD, **changes}, strict=strict).violations


def test_a_consistent_label_is_valid_in_strict_mode():
    assert check_label(GOOD, strict=True).valid


def test_an_empty_resource_reports_the_missing_classification_and_releasability():
    assert check_label({}, strict=True).violations == [
        "the resource has no classification",
        "the resource has no releasability list",
    ]


@pytest.mark.parametrize(
    ("changes", "violation"),
    [
        ({"classification": "  "}, "the resource has no classification"),
        (
            {"classification": "secret", "originalClassification": None},
            "the resource classification 'secret' is not one of UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, "
            "TOP_SECRET",
        ),
        ({"releasabilityTo": None}, "the resource has no releasability list"),
        ({"releasabilityTo": "FRA,USA"}, "the resource has no releasability list"),
        (
            {"releasabilityTo": ["FRA", "USA", "NATO", "fra", 7, "NATO"], "COI": []},
            "the resource releasability list contains invalid country codes: 7, NATO, fra",
        ),
        ({"COI": "FRA-US"}, "the resource COI field is not a list"),
        ({"caveats": "NOFORN"}, "the resource caveats field is not a list"),
        (
            {"originalClassification": "GEHEIM"},
            "the resource marking 'GEHEIM' is not a recognized classification for FRA",
        ),
        (
            {"originalClassification": " très secret "},
            "the resource marking 'très secret' (FRA) means TOP_SECRET, which contradicts its classification SECRET",
        ),
        (
            {"creationDate": "2025-01-02 03:04:05"},
            "the resource creation date '2025-01-02 03:04:05' is not a valid RFC 3339 timestamp",
        ),
        ({"creationDate": 1735787045}, "the resource creation date '1735787045' is not a valid RFC 3339 timestamp"),
        ({"coiOperator": " some "}, "the resource uses an unknown COI operator 'SOME' (expected ALL or ANY)"),
    ],
)
def test_each_label_problem_is_reported_with_its_text(changes, violation):
    assert _check(**changes) == [violation]


@pytest.mark.parametrize(
    "changes",
    [
        {"originalCountry": None},  # only one of the two original fields: both are ignored
        {"originalClassification": "  "},
        {"originalClassification": "secret_défense"},
        {"creationDate": None},
        {"coiOperator": None},
        {"coiOperator": " any "},
        {"COI": None, "caveats": None},
        {"releasableToIndustry": "yes"},
    ],
)
def test_tolerated_label_variations_are_valid(changes):
    assert _check(**changes) == []


def test_an_empty_releasability_list_is_present_for_the_label_check():
    assert resource_problems({**GOOD, "releasabilityTo": []}) == []


# --- §3.12 coherence, V1–V7 ---


@pytest.mark.parametrize(
    ("changes", "violations"),
    [
        (
            {"COI": ["US-ONLY", "NATO", "FVEY"], "releasabilityTo": ["USA"]},
            ["US-ONLY cannot be combined with other communities (FVEY, NATO)"],
        ),
        (
            {"COI": ["EU-RESTRICTED", "NATO-COSMIC"], "releasabilityTo": ["FRA"]},
            ["EU-RESTRICTED cannot be combined with NATO-COSMIC"],
        ),
        (
            {"COI": ["FVEY"], "caveats": ["NOFORN"], "releasabilityTo": ["USA"]},
            ["the NOFORN caveat requires the COI list to be exactly US-ONLY"],
        ),
        (
            {"COI": ["US-ONLY"], "caveats": ["NOFORN"], "releasabilityTo": ["USA", "GBR"]},
            [
                "the NOFORN caveat requires releasability to be exactly USA",
                "releasable countries GBR are not members of any of the resource's communities",
            ],
        ),
        (
            {"COI": [], "caveats": ["NOFORN"], "releasabilityTo": []},
            [
                "the NOFORN caveat requires the COI list to be exactly US-ONLY",
                "the NOFORN caveat requires releasability to be exactly USA",
            ],
        ),
        (
            {
                "COI": ["NATO", "FVEY", "CAN-US", "AUKUS", "NATO-COSMIC"],
                "coiOperator": "any",
                "releasabilityTo": ["USA"],
            },
            [
                "with operator ANY, CAN-US must not be combined with FVEY, which contains it",
                "with operator ANY, AUKUS must not be combined with FVEY, which contains it",
                "with operator ANY, NATO-COSMIC must not be combined with NATO, which contains it",
            ],
        ),
        (
            {"COI": ["FVEY", "CAN-US"], "coiOperator": "ALL", "releasabilityTo": ["CAN", "USA"]},
            [],
        ),
        (
            {"COI": ["CAN-US", "Alpha"], "releasabilityTo": ["CAN", "USA", "JPN", "FRA"]},
            ["releasable countries FRA, JPN are not members of any of the resource's communities"],
        ),
        ({"COI": ["Alpha", "Beta"], "releasabilityTo": ["JPN"]}, []),
        ({"COI": [], "releasabilityTo": ["JPN", "BRA"]}, []),
        (
            {"COI": ["NATO", "alpha", "SPACE"], "releasabilityTo": ["FRA"]},
            ["unknown communities SPACE, alpha"],
        ),
    ],
)
def test_coherence_violations_follow_v1_to_v7_in_order(changes, violations):
    assert coherence_violations({**GOOD, **changes}, strict=True) == violations


def test_v6_and_v7_apply_only_in_strict_mode():
    resource = {**GOOD, "COI": ["CAN-US", "SPACE"], "releasabilityTo": ["FRA"]}
    assert coherence_violations(resource, strict=False) == []
    assert coherence_violations(resource, strict=True) == [
        "releasable countries FRA are not members of any of the resource's communities",
        "unknown communities SPACE",
    ]
    assert check_label(resource, strict=False).valid


def test_strict_checks_read_the_registry_given():
    resource = {**GOOD, "COI": ["SPACE"], "releasabilityTo": ["FRA"]}
    assert coherence_violations(resource, strict=True, coi_members={"SPACE": ("FRA",)}) == []


def test_label_check_orders_problems_before_equivalency_date_operator_and_coherence():
    violations = _check(
        strict=False,
        releasabilityTo=["USA", "XX"],
        originalClassification="GEHEIM",
        creationDate="yesterday",
        coiOperator="SOME",
        COI=["US-ONLY", "FVEY"],
    )
    assert [text.split(" ")[:3] for text in violations] == [
        ["the", "resource", "releasability"],
        ["the", "resource", "marking"],
        ["the", "resource", "creation"],
        ["the", "resource", "uses"],
        ["US-ONLY", "cannot", "be"],
    ]


# --- §9.2 derived pushdown columns ---


def test_derived_columns_of_a_good_label():
    columns = derive_label_columns({**GOOD, "COI": ["FRA-US", "FRA-US"], "coiOperator": " any "})
    assert columns.classification_rank == 3
    assert columns.releasability == ("FRA", "USA")
    assert (columns.cois, columns.coi_count, columns.coi_operator) == (("FRA-US",), 1, "ANY")
    assert columns.has_us_only is False
    assert columns.creation_ts == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert columns.releasable_to_industry is True
    assert (columns.label_ok, columns.label_ok_strict) == (True, True)


def test_derived_columns_keep_an_invalid_operator_out_of_label_ok():
    columns = derive_label_columns({**GOOD, "coiOperator": "SOME"})
    assert (columns.coi_operator, columns.label_ok) == ("SOME", True)


@pytest.mark.parametrize(
    ("changes", "label_ok", "label_ok_strict"),
    [
        ({"classification": "NATO SECRET"}, False, False),
        ({"originalClassification": "TRÈS SECRET"}, False, False),
        ({"creationDate": "soon"}, False, False),
        ({"releasabilityTo": ["FRA", "EU"]}, False, False),
        ({"COI": ["US-ONLY", "FRA-US"]}, False, False),
        ({"COI": ["FRA-US"], "releasabilityTo": ["FRA", "USA", "DEU"]}, True, False),
        ({"COI": ["SPACE"]}, True, False),
    ],
)
def test_label_ok_and_label_ok_strict_follow_the_label_checks(changes, label_ok, label_ok_strict):
    columns = derive_label_columns({**GOOD, **changes})
    assert (columns.label_ok, columns.label_ok_strict) == (label_ok, label_ok_strict)


def test_derived_columns_of_an_empty_resource():
    columns = derive_label_columns({})
    assert columns.classification_rank is None
    assert (columns.releasability, columns.cois, columns.coi_operator) == ((), (), "ALL")
    assert (columns.has_us_only, columns.creation_ts, columns.releasable_to_industry) == (False, None, False)
    assert columns.label_ok is False
