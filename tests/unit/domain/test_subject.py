"""spec/abac.md §3 definitions, §3.2 P1–P6 and the §3.3 ladder choice."""

from __future__ import annotations

import pytest

from dive.domain.countries import ISO_ALPHA3
from dive.domain.subject import (
    clearance_ladder,
    is_industry,
    organization_type,
    subject_cois,
    subject_level,
    subject_problems,
)

GOOD = {"uniqueID": "testuser-deu-4", "clearance": "GEHEIM", "countryOfAffiliation": "DEU", "acpCOI": ["NATO"]}


def test_a_complete_subject_has_no_problems():
    assert subject_problems(GOOD) == []


def test_an_empty_subject_reports_p1_to_p3_in_order():
    assert subject_problems({}) == [
        "your account has no unique identifier (uniqueID)",
        "your account has no clearance",
        "your account has no country of affiliation",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"uniqueID": " \t"}, "your account has no unique identifier (uniqueID)"),
        ({"clearance": ["SECRET"]}, "your account has no clearance"),
        ({"countryOfAffiliation": 5}, "your account has no country of affiliation"),
        (
            {"countryOfAffiliation": "NATO"},
            "your country of affiliation 'NATO' is not a valid ISO 3166-1 alpha-3 code",
        ),
        ({"countryOfAffiliation": "deu"}, "your country of affiliation 'deu' is not a valid ISO 3166-1 alpha-3 code"),
        ({"organizationType": "CIV"}, "your organization type 'CIV' is not one of GOV, MIL, INDUSTRY"),
        ({"organizationType": "  "}, "your organization type '  ' is not one of GOV, MIL, INDUSTRY"),
        ({"organizationType": 3}, "your organization type '3' is not one of GOV, MIL, INDUSTRY"),
        ({"acpCOI": "NATO"}, "your community memberships (acpCOI) are not a list"),
        ({"acpCOI": {}}, "your community memberships (acpCOI) are not a list"),
    ],
)
def test_each_subject_problem_is_reported_with_the_spec_text(change, problem):
    assert subject_problems({**GOOD, **change}) == [problem]


@pytest.mark.parametrize("org", [None, "", " mil ", "industry", "GOV"])
def test_absent_empty_and_valid_organization_types_are_not_problems(org):
    assert subject_problems({**GOOD, "organizationType": org}) == []


def test_registered_test_codes_are_valid_when_in_the_set():
    subject = {**GOOD, "countryOfAffiliation": "XYZ"}
    assert len(subject_problems(subject)) == 1
    assert subject_problems(subject, ISO_ALPHA3 | {"XYZ"}) == []


@pytest.mark.parametrize(
    ("value", "org", "industry"),
    [
        (None, "GOV", False),
        ("", "GOV", False),
        (" mil\t", "MIL", False),
        ("Industry", "INDUSTRY", True),
        ("CIV", "CIV", True),
    ],
)
def test_organization_type_resolves_and_unknown_types_count_as_industry(value, org, industry):
    assert organization_type({"organizationType": value}) == org
    assert is_industry(org) is industry


def test_clearance_ladder_prefers_a_present_clearance_country():
    assert clearance_ladder({"clearanceCountry": "NATO", "countryOfAffiliation": "FRA"}) == "NATO"
    assert clearance_ladder({"clearanceCountry": " ", "countryOfAffiliation": "FRA"}) == "FRA"
    assert (
        subject_level({"clearance": "NATO SECRET", "clearanceCountry": "NATO", "countryOfAffiliation": "FRA"})
        == "SECRET"
    )
    assert subject_level(GOOD) == "SECRET"
    assert subject_level({**GOOD, "countryOfAffiliation": "FRA"}) is None


def test_subject_cois_keep_strings_of_a_list_only():
    assert subject_cois({"acpCOI": ["NATO", 3, "FVEY", "NATO"]}) == {"NATO", "FVEY"}
    assert subject_cois({"acpCOI": "NATO,FVEY"}) == frozenset()
