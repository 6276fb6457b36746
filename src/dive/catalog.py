"""Instances, port offsets, ports and names (spec/orchestration.md §0, §1.2): the only place that computes them.

Errors::

    CatalogError
    ├─ InvalidInstanceCodeError   invalid_instance_code
    ├─ UnknownInstanceError       unknown_instance
    ├─ UnknownServiceError        unknown_service
    ├─ InvalidOffsetError         invalid_offset
    ├─ InvalidPortShiftError      invalid_port_shift
    └─ PortOutOfRangeError        port_out_of_range
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast

from dive.domain.countries import ISO_ALPHA3
from dive.types import InstanceCode

__all__ = [
    "ALERTMANAGER_PORT",
    "BASE_PORTS",
    "CATALOG",
    "HUB",
    "MAX_OFFSET",
    "PROMETHEUS_PORT",
    "SERVICES",
    "TEST_OFFSETS",
    "CatalogError",
    "Instance",
    "InvalidInstanceCodeError",
    "InvalidOffsetError",
    "InvalidPortShiftError",
    "PortOutOfRangeError",
    "Service",
    "UnknownInstanceError",
    "UnknownServiceError",
    "alertmanager_port",
    "client_id",
    "database_name",
    "display_code",
    "idp_alias",
    "instance",
    "is_catalog_code",
    "is_test_code",
    "issuer",
    "kas_id",
    "kas_url",
    "normalize_code",
    "offset",
    "port",
    "port_shift",
    "ports",
    "prometheus_port",
    "realm",
    "supervisor_group",
    "supervisor_program",
]


class CatalogError(Exception):
    """A usage error: a bad instance code, service, offset or port shift."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidInstanceCodeError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_instance_code", message)


class UnknownInstanceError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("unknown_instance", message)


class UnknownServiceError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("unknown_service", message)


class InvalidOffsetError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_offset", message)


class InvalidPortShiftError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_port_shift", message)


class PortOutOfRangeError(CatalogError):
    def __init__(self, message: str) -> None:
        super().__init__("port_out_of_range", message)


Service = Literal["web", "api", "pdp", "idp", "kas"]
SERVICES: Final[tuple[Service, ...]] = ("web", "api", "pdp", "idp", "kas")
BASE_PORTS: Final[Mapping[Service, int]] = {"web": 3000, "api": 4000, "pdp": 8181, "idp": 8443, "kas": 9000}
PROMETHEUS_PORT: Final = 9090
ALERTMANAGER_PORT: Final = 9093
# CONSISTENCY #24: test codes take the lowest free offset in 40–89; 90–99 would put a KAS on 909x.
TEST_OFFSETS: Final = range(40, 90)
MAX_OFFSET: Final = TEST_OFFSETS[-1]
_MAX_PORT: Final = 65535
HUB: Final = InstanceCode("usa")


@dataclass(frozen=True)
class Instance:
    code: InstanceCode  # lower case
    name: str  # English name
    offset: int


def _catalog(*entries: tuple[str, str]) -> dict[InstanceCode, Instance]:
    return {InstanceCode(code): Instance(InstanceCode(code), name, index) for index, (code, name) in enumerate(entries)}


# USA is the hub (offset 0); the other 31 NATO members follow alphabetically by English name, then the partners.
CATALOG: Final[Mapping[InstanceCode, Instance]] = _catalog(
    ("usa", "United States"),
    ("alb", "Albania"),
    ("bel", "Belgium"),
    ("bgr", "Bulgaria"),
    ("can", "Canada"),
    ("hrv", "Croatia"),
    ("cze", "Czechia"),
    ("dnk", "Denmark"),
    ("est", "Estonia"),
    ("fin", "Finland"),
    ("fra", "France"),
    ("deu", "Germany"),
    ("grc", "Greece"),
    ("hun", "Hungary"),
    ("isl", "Iceland"),
    ("ita", "Italy"),
    ("lva", "Latvia"),
    ("ltu", "Lithuania"),
    ("lux", "Luxembourg"),
    ("mne", "Montenegro"),
    ("nld", "Netherlands"),
    ("mkd", "North Macedonia"),
    ("nor", "Norway"),
    ("pol", "Poland"),
    ("prt", "Portugal"),
    ("rou", "Romania"),
    ("svk", "Slovakia"),
    ("svn", "Slovenia"),
    ("esp", "Spain"),
    ("swe", "Sweden"),
    ("tur", "Türkiye"),
    ("gbr", "United Kingdom"),
    ("aus", "Australia"),
    ("nzl", "New Zealand"),
    ("jpn", "Japan"),
    ("kor", "South Korea"),
    ("isr", "Israel"),
    ("ukr", "Ukraine"),
)

_CODE: Final = re.compile(r"[a-z]{3}")


def normalize_code(text: str) -> InstanceCode:
    """Three ASCII letters in any case, returned in lower case; `hub` means `usa`."""
    code = text.strip().lower() if isinstance(text, str) else ""
    if code == "hub":
        return HUB
    if not _CODE.fullmatch(code):
        raise InvalidInstanceCodeError(f"{text!r} is not an instance code; use three letters such as FRA, or hub")
    return InstanceCode(code)


def display_code(code: str) -> str:
    """The upper-case form used in everything the policy sees, APIs and metrics (`FRA`)."""
    return normalize_code(code).upper()


def is_catalog_code(code: str) -> bool:
    try:
        return normalize_code(code) in CATALOG
    except InvalidInstanceCodeError:
        return False


def is_test_code(code: str) -> bool:
    """Three letters that are neither a catalog instance nor an ISO 3166-1 alpha-3 code (§0, abac D15)."""
    try:
        normalized = normalize_code(code)
    except InvalidInstanceCodeError:
        return False
    return normalized not in CATALOG and normalized.upper() not in ISO_ALPHA3


def instance(code: str) -> Instance:
    """The catalog entry of `code`; test codes have none (their offset lives in `instance_offsets`)."""
    normalized = normalize_code(code)
    if normalized not in CATALOG:
        raise UnknownInstanceError(
            f"unknown instance {normalized.upper()}: not in the catalog; a test code needs its allocated offset"
        )
    return CATALOG[normalized]


def offset(code: str) -> int:
    return instance(code).offset


def _resolve_offset(code: str, explicit: int | None) -> int:
    if explicit is None:
        return offset(code)
    normalize_code(code)
    if not 0 <= explicit <= MAX_OFFSET:
        raise InvalidOffsetError(f"port offset {explicit} is outside 0–{MAX_OFFSET}; offsets 90–99 are never used")
    return explicit


def _checked(value: int, what: str) -> int:
    if value > _MAX_PORT:
        raise PortOutOfRangeError(f"{what} would be port {value}, above {_MAX_PORT}; lower DIVE_PORT_SHIFT")
    return value


def _check_shift(shift: int) -> None:
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise InvalidPortShiftError(f"port shift {shift!r} is not a non-negative integer")


def _service(name: str) -> Service:
    if name not in BASE_PORTS:
        raise UnknownServiceError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
    return cast(Service, name)


def port(code: str, service: str, *, shift: int = 0, offset: int | None = None) -> int:
    """`base + offset + shift`; `offset` is required for test codes (allocated 40–89) and overrides the catalog."""
    base = BASE_PORTS[_service(service)]
    _check_shift(shift)
    return _checked(base + _resolve_offset(code, offset) + shift, f"{code} {service}")


def ports(code: str, *, shift: int = 0, offset: int | None = None) -> dict[Service, int]:
    return {service: port(code, service, shift=shift, offset=offset) for service in SERVICES}


def prometheus_port(*, shift: int = 0) -> int:
    _check_shift(shift)
    return _checked(PROMETHEUS_PORT + shift, "Prometheus")


def alertmanager_port(*, shift: int = 0) -> int:
    _check_shift(shift)
    return _checked(ALERTMANAGER_PORT + shift, "Alertmanager")


def port_shift(environ: Mapping[str, str]) -> int:
    """`DIVE_PORT_SHIFT` (default 0): a non-negative integer that keeps every port at or below 65535."""
    raw = environ.get("DIVE_PORT_SHIFT", "").strip() or "0"
    if not raw.isascii() or not raw.isdigit():
        raise InvalidPortShiftError(f"DIVE_PORT_SHIFT={raw!r} is not a non-negative integer; unset it for 0")
    shift = int(raw)
    max_shift = _MAX_PORT - max(ALERTMANAGER_PORT, BASE_PORTS["kas"] + MAX_OFFSET)
    if shift > max_shift:
        raise InvalidPortShiftError(f"DIVE_PORT_SHIFT={raw} pushes ports above {_MAX_PORT}; use at most {max_shift}")
    return shift


def realm(code: str) -> str:
    return f"dive-v3-broker-{normalize_code(code)}"


def client_id(code: str) -> str:
    """The app client of realm `code`, and the federation client for partner `code` in any other realm."""
    return realm(code)


def idp_alias(partner: str) -> str:
    return f"{normalize_code(partner)}-idp"


def kas_id(code: str) -> str:
    return f"{normalize_code(code)}-kas"


def issuer(code: str, *, host: str = "localhost", shift: int = 0, offset: int | None = None) -> str:
    return f"https://{host}:{port(code, 'idp', shift=shift, offset=offset)}/realms/{realm(code)}"


def kas_url(code: str, *, host: str = "localhost", shift: int = 0, offset: int | None = None) -> str:
    return f"https://{host}:{port(code, 'kas', shift=shift, offset=offset)}/kas"


def supervisor_group(code: str) -> str:
    normalized = normalize_code(code)
    return "hub" if normalized == HUB else normalized


def supervisor_program(code: str, service: str) -> str:
    return f"{supervisor_group(code)}-{_service(service)}"


def database_name(code: str) -> str:
    """The PostgreSQL database of an instance, also the name of its owner role."""
    return f"dive_{normalize_code(code)}"
