"""Tenant settings (spec/abac.md §5.4) and the industry clearance cap (§3.11)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from dive.domain.clearance import is_level, rank
from dive.domain.inputs import render_value
from dive.types import Level

__all__ = [
    "DEFAULT_TENANT",
    "INDUSTRY_CAPS_BUILTIN",
    "TENANT_DEFAULTS",
    "TenantSettings",
    "industry_cap",
    "industry_cap_rank",
    "parse_tenant_settings",
]

# §3.11 step 2: the built-in caps, consulted after the tenant's own `industry_caps`.
INDUSTRY_CAPS_BUILTIN: Final[Mapping[str, Level]] = {
    "USA": "SECRET",
    "FRA": "CONFIDENTIAL",
    "GBR": "SECRET",
    "DEU": "CONFIDENTIAL",
}

DEFAULT_AAL_TOP_SECRET: Final = 2
DEFAULT_INDUSTRY_CAP: Final[Level] = "CONFIDENTIAL"


@dataclass(frozen=True, kw_only=True)
class TenantSettings:
    """Settings of a deciding instance. Cap values are kept as given: a non-canonical one ranks UNCLASSIFIED."""

    aal_top_secret: int = DEFAULT_AAL_TOP_SECRET
    industry_caps: Mapping[str, str] = field(default_factory=dict)
    industry_cap_default: str = DEFAULT_INDUSTRY_CAP
    strict_coi_coherence: bool = False


DEFAULT_TENANT: Final = TenantSettings()

TENANT_DEFAULTS: Final[Mapping[str, object]] = {
    "aal_top_secret": DEFAULT_AAL_TOP_SECRET,
    "industry_caps": {},
    "industry_cap_default": DEFAULT_INDUSTRY_CAP,
    "strict_coi_coherence": False,
}


def parse_tenant_settings(raw: object) -> TenantSettings:
    """Read `data.dive.tenants[code]` the way the policy does; absent or ill-typed settings take their default."""
    if not isinstance(raw, Mapping):
        return DEFAULT_TENANT
    return TenantSettings(
        aal_top_secret=_aal_top_secret(raw.get("aal_top_secret")),
        industry_caps=_caps(raw.get("industry_caps")),
        industry_cap_default=render_value(raw.get("industry_cap_default", DEFAULT_INDUSTRY_CAP)),
        strict_coi_coherence=raw.get("strict_coi_coherence") is True,
    )


def _aal_top_secret(value: object) -> int:
    """§5.4: only 3 changes anything; other values are ignored."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return 3 if is_number and value == 3 else DEFAULT_AAL_TOP_SECRET


def _caps(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {country: render_value(cap) for country, cap in value.items() if isinstance(country, str)}


def industry_cap(country: str, tenant: TenantSettings = DEFAULT_TENANT) -> str:
    """§3.11: the tenant's cap for the user's country, else the built-in one, else the tenant's default."""
    if country in tenant.industry_caps:
        return tenant.industry_caps[country]
    if country in INDUSTRY_CAPS_BUILTIN:
        return INDUSTRY_CAPS_BUILTIN[country]
    return tenant.industry_cap_default


def industry_cap_rank(country: str, tenant: TenantSettings = DEFAULT_TENANT) -> int:
    """The rank of the cap; a cap that is not a canonical name ranks as UNCLASSIFIED (fail closed)."""
    cap = industry_cap(country, tenant)
    return rank(cap) if is_level(cap) else 0
