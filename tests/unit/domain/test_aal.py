"""spec/abac.md §3.9 (D3) session and required AAL, and §9.1 `aal_max`."""

from __future__ import annotations

import pytest

from dive.domain.aal import aal_from_acr, aal_from_amr, aal_max, effective_aal, required_aal


@pytest.mark.parametrize(
    ("acr", "level"),
    [
        (1, 1),
        (2, 2),
        (3, 3),
        (2.0, 2),
        ("1", 1),
        (" 2 ", 2),
        ("AAL2", 2),
        ("aal3", 3),
        ("urn:dive25:aal:2", 2),
        ("URN:DIVE25:AAL:3", 3),
        ("0", None),
        (0, None),
        (4, None),
        (2.5, None),
        (True, None),
        ("aal 2", None),
        ("２", None),
        (None, None),
        (["2"], None),
    ],
)
def test_acr_gives_a_level_only_for_the_listed_values(acr, level):
    assert aal_from_acr(acr) == level


@pytest.mark.parametrize(
    ("amr", "level"),
    [
        (["pwd"], 1),
        (["pwd", "otp"], 2),
        (["PWD", "TOTP"], 2),
        (["otp", "sms"], 2),
        (["pwd", "pwd"], 1),
        (["otp", "otp"], 1),
        (["pwd", "mfa"], 1),  # any two strings are not MFA (upstream's defect)
        (["pwd", "email", "kba"], 1),
        (["hwk"], 3),
        (["pwd", "WebAuthn"], 3),
        (["mfa"], 1),
        ([7], 1),
        ([], None),
        (None, None),
        ("pwd otp", None),
    ],
)
def test_amr_counts_factor_types(amr, level):
    assert aal_from_amr(amr) == level


@pytest.mark.parametrize(
    ("acr", "amr", "aal"),
    [
        (None, None, 1),
        ("0", [], 1),
        ("1", ["pwd", "otp"], 2),
        ("3", ["pwd"], 3),
        ("2", ["pwd"], 2),
        ("garbage", ["hwk"], 3),
    ],
)
def test_effective_aal_is_the_higher_level_or_1(acr, amr, aal):
    assert effective_aal(acr, amr) == aal


def test_required_aal_by_classification_and_tenant_option():
    assert [
        required_aal(level) for level in ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET")
    ] == [
        1,
        1,
        2,
        2,
        2,
    ]
    assert required_aal("TOP_SECRET", aal_top_secret=3) == 3
    assert required_aal("SECRET", aal_top_secret=3) == 2
    assert required_aal("TOP_SECRET", aal_top_secret=4) == 2


@pytest.mark.parametrize(("aal", "aal_top_secret", "expected"), [(1, 2, 1), (2, 2, 4), (2, 3, 3), (3, 3, 4), (3, 2, 4)])
def test_aal_max_is_the_highest_rank_the_session_may_read(aal, aal_top_secret, expected):
    assert aal_max(aal, aal_top_secret) == expected
