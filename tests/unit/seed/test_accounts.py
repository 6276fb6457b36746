"""The §6.1 accounts table (spec/abac.md §6; CONSISTENCY #20–#22)."""

from __future__ import annotations

import pytest

from dive.domain import COI_MEMBERS, normalize
from dive.seed import AccountSpec, SeedOptionsError, test_accounts
from dive.types import LEVELS


def _by_name(code: str) -> dict[str, AccountSpec]:
    return {account.username: account for account in test_accounts(code, COI_MEMBERS)}


def test_every_instance_has_seven_accounts_in_table_order() -> None:
    names = [account.username for account in test_accounts("fra", COI_MEMBERS)]
    assert names == [*(f"testuser-fra-{n}" for n in range(1, 6)), "admin-fra", "contractor-fra"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("testuser-usa-4", ("NATO", "US-ONLY")),
        ("testuser-usa-5", ("FVEY", "NATO", "NATO-COSMIC", "US-ONLY")),
        ("testuser-gbr-5", ("FVEY", "NATO", "NATO-COSMIC")),
        ("testuser-can-5", ("FVEY", "NATO", "NATO-COSMIC")),
        ("testuser-fra-5", ("NATO", "NATO-COSMIC")),
        ("testuser-aus-5", ("FVEY",)),
        ("testuser-jpn-5", ()),
        ("testuser-fra-3", ("NATO",)),
        ("testuser-fra-2", ()),
        ("contractor-aus", ("FVEY",)),
        (
            "admin-usa",
            (
                "AUKUS", "Alpha", "Beta", "CAN-US", "CENTCOM", "DEU-US", "EUCOM", "FRA-US", "FVEY", "GBR-US", "Gamma",
                "NATO", "NATO-COSMIC", "NORTHCOM", "PACOM", "QUAD", "SOCOM", "US-ONLY",
            ),
        ),
        ("admin-fra", ("Alpha", "Beta", "EU-RESTRICTED", "EUCOM", "FRA-US", "Gamma", "NATO", "NATO-COSMIC")),
        ("admin-jpn", ("Alpha", "Beta", "Gamma", "PACOM", "QUAD")),
    ],
)  # fmt: skip
def test_acp_coi_matches_the_spec_examples(username: str, expected: tuple[str, ...]) -> None:
    code = username.rsplit("-", 2)[1] if username.startswith("testuser") else username.split("-")[1]
    assert _by_name(code)[username].acp_coi == expected


def test_clearances_are_the_primary_national_terms_of_each_level() -> None:
    accounts = _by_name("deu")
    assert [accounts[f"testuser-deu-{n}"].clearance for n in range(1, 6)] == [
        "OFFEN",
        "VS-NUR FÜR DEN DIENSTGEBRAUCH",
        "VS-VERTRAULICH",
        "GEHEIM",
        "STRENG GEHEIM",
    ]
    assert accounts["admin-deu"].clearance == "STRENG GEHEIM"
    assert accounts["contractor-deu"].clearance == "GEHEIM"  # own SECRET term, not the INDUSTRY ladder


@pytest.mark.parametrize("code", ["USA", "FRA", "TUR", "AUS", "JPN", "XTA"])
def test_every_clearance_normalises_to_its_level_under_the_account_country(code: str) -> None:
    for account in test_accounts(code, COI_MEMBERS):
        assert normalize(account.clearance, code) == account.level
        assert account.level in LEVELS


def test_authenticators_roles_and_organisation_types_follow_the_table() -> None:
    accounts = test_accounts("est", COI_MEMBERS)
    assert [a.needs_totp for a in accounts] == [False, False, True, True, True, True, True]
    assert [a.organization_type for a in accounts] == ["GOV"] * 6 + ["INDUSTRY"]
    assert [a.roles for a in accounts] == [("dive-user",)] * 5 + [("dive-user", "dive-admin"), ("dive-user",)]
    assert all(a.country == "EST" and a.unique_id == a.username for a in accounts)


def test_only_the_admin_has_its_own_password_secret() -> None:
    secrets = {a.username: a.password_secret for a in test_accounts("FRA", COI_MEMBERS)}
    assert secrets.pop("admin-fra") == "fra/admin-user-password"
    assert set(secrets.values()) == {"_shared/test-user-password"}


def test_a_country_outside_every_community_gets_no_home_coi() -> None:
    accounts = _by_name("xta")
    assert all(accounts[f"testuser-xta-{n}"].acp_coi == () for n in range(1, 6))
    assert accounts["admin-xta"].acp_coi == ("Alpha", "Beta", "Gamma")
    assert accounts["testuser-xta-5"].clearance == "TOP_SECRET"


def test_registry_membership_decides_the_extra_top_level_cois() -> None:
    registry = {coi: members for coi, members in COI_MEMBERS.items() if coi != "NATO-COSMIC"}
    top = {a.username: a.acp_coi for a in test_accounts("gbr", registry)}
    assert top["testuser-gbr-5"] == ("FVEY", "NATO")
    assert "NATO-COSMIC" not in top["admin-gbr"]


@pytest.mark.parametrize("code", ["", "fr", "FRAN", "f1a", "été"])
def test_a_malformed_instance_code_is_rejected(code: str) -> None:
    with pytest.raises(SeedOptionsError) as err:
        test_accounts(code, COI_MEMBERS)
    assert err.value.code == "seed_options_invalid"
