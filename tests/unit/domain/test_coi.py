"""spec/abac.md §5.1 (COI registry seed) and §6.1 (home community, admins' COIs)."""

from __future__ import annotations

from dive.domain.coi import ANY_CONTAINMENT_PAIRS, COI_MEMBERS, PROGRAM_COIS, cois_of_country, home_community
from dive.domain.countries import ISO_ALPHA3, NATO_32


def test_registry_seed_has_every_spec_coi_with_iso_members():
    assert len(COI_MEMBERS) == 19
    assert all(set(members) <= ISO_ALPHA3 for members in COI_MEMBERS.values())
    assert COI_MEMBERS["NATO"] == COI_MEMBERS["NATO-COSMIC"] == NATO_32
    assert COI_MEMBERS["US-ONLY"] == ("USA",)
    assert len(COI_MEMBERS["EU-RESTRICTED"]) == 27


def test_program_cois_are_mixed_case_with_no_members():
    assert PROGRAM_COIS == ("Alpha", "Beta", "Gamma")
    assert all(COI_MEMBERS[coi] == () for coi in PROGRAM_COIS)


def test_any_containment_pairs_name_registry_cois_where_the_second_contains_the_first():
    for inner, outer in ANY_CONTAINMENT_PAIRS:
        assert set(COI_MEMBERS[inner]) <= set(COI_MEMBERS[outer])


def test_admin_usa_and_admin_fra_cois_match_the_spec_examples():
    usa = sorted({*cois_of_country("USA"), *PROGRAM_COIS})
    assert usa == sorted(
        [
            "AUKUS",
            "Alpha",
            "Beta",
            "CAN-US",
            "CENTCOM",
            "DEU-US",
            "EUCOM",
            "FRA-US",
            "FVEY",
            "GBR-US",
            "Gamma",
            "NATO",
            "NATO-COSMIC",
            "NORTHCOM",
            "PACOM",
            "QUAD",
            "SOCOM",
            "US-ONLY",
        ]
    )
    fra = sorted({*cois_of_country("FRA"), *PROGRAM_COIS})
    assert fra == sorted(["Alpha", "Beta", "EU-RESTRICTED", "EUCOM", "FRA-US", "Gamma", "NATO", "NATO-COSMIC"])


def test_home_community_is_nato_then_fvey_then_none():
    assert [home_community(code) for code in ("FRA", "USA", "AUS", "NZL", "JPN", "XYZ")] == [
        "NATO",
        "NATO",
        "FVEY",
        "FVEY",
        None,
        None,
    ]
