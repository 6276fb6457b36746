"""spec/abac.md §5.4 tenant settings and §3.11 industry caps."""

from __future__ import annotations

import pytest

from dive.domain.tenants import DEFAULT_TENANT, TENANT_DEFAULTS, industry_cap, industry_cap_rank, parse_tenant_settings


def test_absent_or_ill_typed_settings_take_the_spec_defaults():
    assert parse_tenant_settings(None) == DEFAULT_TENANT
    assert parse_tenant_settings({}) == DEFAULT_TENANT
    odd = parse_tenant_settings({"aal_top_secret": "3", "industry_caps": [1], "strict_coi_coherence": "true"})
    assert odd == DEFAULT_TENANT
    assert TENANT_DEFAULTS == {
        "aal_top_secret": 2,
        "industry_caps": {},
        "industry_cap_default": "CONFIDENTIAL",
        "strict_coi_coherence": False,
    }


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (3.0, 3), (2, 2), (4, 2), (True, 2), (None, 2)])
def test_only_aal_top_secret_3_raises_top_secret(value, expected):
    assert parse_tenant_settings({"aal_top_secret": value}).aal_top_secret == expected


@pytest.mark.parametrize(
    ("settings", "country", "cap", "cap_rank"),
    [
        ({}, "USA", "SECRET", 3),
        ({}, "FRA", "CONFIDENTIAL", 2),
        ({}, "GBR", "SECRET", 3),
        ({}, "DEU", "CONFIDENTIAL", 2),
        ({}, "ITA", "CONFIDENTIAL", 2),
        ({"industry_caps": {"FRA": "SECRET"}}, "FRA", "SECRET", 3),
        ({"industry_cap_default": "RESTRICTED"}, "ITA", "RESTRICTED", 1),
        ({"industry_cap_default": "RESTRICTED"}, "USA", "SECRET", 3),
        ({"industry_caps": {"ITA": "secret"}}, "ITA", "secret", 0),
        ({"industry_cap_default": None}, "ITA", "null", 0),
    ],
)
def test_industry_cap_looks_up_tenant_then_builtin_then_tenant_default(settings, country, cap, cap_rank):
    tenant = parse_tenant_settings(settings)
    assert industry_cap(country, tenant) == cap
    assert industry_cap_rank(country, tenant) == cap_rank


def test_strict_coi_coherence_needs_boolean_true():
    assert parse_tenant_settings({"strict_coi_coherence": True}).strict_coi_coherence is True
    assert parse_tenant_settings({"strict_coi_coherence": 1}).strict_coi_coherence is False
