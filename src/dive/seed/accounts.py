"""The seven test accounts of every instance (spec/abac.md §6.1; CONSISTENCY #20–#22). Pure: no passwords here.

The identity phase creates them through the admin API; this module only says what they are. Passwords live in the
keystore under `password_secret`, TOTP secrets under `<c>/totp/<username>` (CONSISTENCY #20, #22).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from dive.domain.clearance import primary_term
from dive.domain.coi import PROGRAM_COIS, cois_of_country, home_community
from dive.seed.errors import SeedOptionsError
from dive.types import Level

__all__ = [
    "ADMIN_ROLE",
    "TEST_USER_PASSWORD_SECRET",
    "USER_ROLE",
    "AccountSpec",
    "admin_password_secret",
    "test_accounts",
]

USER_ROLE: Final = "dive-user"  # CONSISTENCY #21
ADMIN_ROLE: Final = "dive-admin"
TEST_USER_PASSWORD_SECRET: Final = "_shared/test-user-password"  # CONSISTENCY #22: testusers and the contractor
_CODE: Final = re.compile(r"[A-Za-z]{3}")

OrganizationType = Literal["GOV", "MIL", "INDUSTRY"]


@dataclass(frozen=True, kw_only=True)
class AccountSpec:
    """One seeded account. `uniqueID` is the username and there is no `clearanceCountry` (§6.1)."""

    username: str
    country: str  # `countryOfAffiliation`, upper case
    level: Level
    clearance: str  # the country's primary term for `level` (§6.2)
    acp_coi: tuple[str, ...]  # sorted by code point
    organization_type: OrganizationType
    needs_totp: bool  # password + TOTP gives AAL2; password alone AAL1
    roles: tuple[str, ...]
    password_secret: str  # keystore path of the password, never the password

    @property
    def unique_id(self) -> str:
        return self.username


def admin_password_secret(code: str) -> str:
    """CONSISTENCY #22: each admin has its own password secret."""
    return f"{_checked(code).lower()}/admin-user-password"


def test_accounts(code: str, coi_members: Mapping[str, Sequence[str]]) -> list[AccountSpec]:
    """The §6.1 accounts of instance `code`, in table order; `coi_members` is the registry's COI table (§5.1)."""
    country = _checked(code).upper()
    home = home_community(country)
    h = (home,) if home is not None else ()

    def is_member(coi: str) -> bool:
        return country in coi_members.get(coi, ())

    top = {*h, *(coi for coi in ("FVEY", "NATO-COSMIC") if is_member(coi))}
    if country == "USA":
        top.add("US-ONLY")
    rows: list[tuple[str, Level, Sequence[str], OrganizationType, bool]] = [
        ("testuser-{c}-1", "UNCLASSIFIED", (), "GOV", False),
        ("testuser-{c}-2", "RESTRICTED", (), "GOV", False),
        ("testuser-{c}-3", "CONFIDENTIAL", h, "GOV", True),
        ("testuser-{c}-4", "SECRET", (*h, "US-ONLY") if country == "USA" else h, "GOV", True),
        ("testuser-{c}-5", "TOP_SECRET", tuple(top), "GOV", True),
        ("admin-{c}", "TOP_SECRET", (*cois_of_country(country, coi_members), *PROGRAM_COIS), "GOV", True),
        ("contractor-{c}", "SECRET", h, "INDUSTRY", True),
    ]
    return [_account(country, *row) for row in rows]


test_accounts.__test__ = False  # type: ignore[attr-defined]  # a test module importing it must not collect it


def _account(
    country: str, pattern: str, level: Level, cois: Sequence[str], org: OrganizationType, totp: bool
) -> AccountSpec:
    username = pattern.format(c=country.lower())
    is_admin = username.startswith("admin-")
    return AccountSpec(
        username=username,
        country=country,
        level=level,
        clearance=primary_term(country, level),  # contractors too: their own country's term (§6.2)
        acp_coi=tuple(sorted(set(cois))),
        organization_type=org,
        needs_totp=totp,
        roles=(USER_ROLE, ADMIN_ROLE) if is_admin else (USER_ROLE,),
        password_secret=admin_password_secret(country) if is_admin else TEST_USER_PASSWORD_SECRET,
    )


def _checked(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise SeedOptionsError(f"instance code {code!r} is not three ASCII letters; use e.g. `fra` or `FRA`")
    return code
