"""The upstream v3.1.0 `federation-registry.json` mapped to registry rows (orchestration §8.7): pure, no I/O."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any, Final

from dive import catalog
from dive.federation.errors import LegacyRegistryError

__all__ = ["LegacyPlan", "LegacySpoke", "plan_legacy_import"]

_TRUST: Final = {"development": "UNCLASSIFIED", "partner": "CONFIDENTIAL", "bilateral": "SECRET",
                 "national": "TOP_SECRET"}  # fmt: skip
_SERVICE_FIELDS: Final = {"keycloak": "idp_url", "backend": "api_url", "frontend": "web_url", "kas": "kas_url"}
_FIXED_CLAIMS: Final = ("uniqueID", "clearance", "countryOfAffiliation", "acpCOI")


@dataclass(frozen=True)
class LegacySpoke:
    code: str  # lower case
    values: Mapping[str, Any]  # FederationSpoke columns


@dataclass
class LegacyPlan:
    version: str
    hub_codes: list[str] = field(default_factory=list)
    spokes: list[LegacySpoke] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already registered: the database wins
    pairs: list[tuple[str, str]] = field(default_factory=list)
    self_references: int = 0
    link_codes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> list[str]:
        return [spoke.code for spoke in self.spokes]

    def counts(self) -> dict[str, int]:
        return {
            "instances": len(self.hub_codes) + len(self.spokes) + len(self.kept),
            "hub": len(self.hub_codes),
            "imported": len(self.spokes),
            "kept": len(self.kept),
            "pairs": len(self.pairs),
            "self_references": self.self_references,
            "links": 2 * len(self.link_codes),
            "warnings": len(self.warnings),
        }


def plan_legacy_import(
    document: Mapping[str, Any], *, existing: Set[str], environ: Mapping[str, str], force: bool
) -> LegacyPlan:
    """Every row the import would write, given the codes already in `federation_spokes` (`existing`)."""
    version = str(document.get("version") or "")
    if not version.startswith("3.") and not force:
        raise LegacyRegistryError(f"legacy registry version {version or '(none)'} is not 3.x; use --force to try")
    instances = document.get("instances")
    if not isinstance(instances, Mapping):
        raise LegacyRegistryError("the legacy registry has no `instances` object")
    federation = document.get("federation") if isinstance(document.get("federation"), Mapping) else {}
    trust = str(federation.get("trustModel") or "")
    trust_level = trust if trust in ("bilateral", "national", "partner") else "development"
    plan = LegacyPlan(version=version, ignored_metadata=dict(document.get("metadata") or {}))
    for key, entry in instances.items():
        _plan_instance(plan, str(key), entry, existing, environ, trust_level)
    _plan_matrix(plan, federation.get("matrix") or {})
    _compare_claims(plan, federation.get("attributeMapping"))
    return plan


def _plan_instance(
    plan: LegacyPlan, key: str, entry: Any, existing: Set[str], environ: Mapping[str, str], trust_level: str
) -> None:
    code = key.lower()
    if not isinstance(entry, Mapping) or str(entry.get("code", "")) != code.upper() or not _is_code(code):
        plan.warnings.append(f"instance {key!r} rejected: its code does not equal the key upper-cased")
        return
    if entry.get("primary") is True or code == catalog.HUB:
        plan.hub_codes.append(code)
        return
    if code in existing:
        plan.kept.append(code)
        return
    kind = "remote" if entry.get("type") == "remote" else "local"
    services = entry.get("services") if isinstance(entry.get("services"), Mapping) else {}
    try:
        urls = _remote_urls(code, services, environ) if kind == "remote" else _local_urls(code, environ)
    except (catalog.CatalogError, LegacyRegistryError) as exc:
        plan.warnings.append(f"instance {code.upper()} rejected: {exc}")
        return
    enabled = entry.get("enabled", True) is not False
    issuer = f"{urls['idp_url']}/realms/{catalog.realm(code)}"
    metadata: dict[str, Any] = {"legacy": dict(services)}
    if entry.get("locale"):
        metadata["locale"] = entry["locale"]
    values = {
        **urls,
        "spoke_id": f"spoke-{code}-{secrets.token_hex(4)}",
        "name": str(entry.get("name") or code.upper())[:100],
        "role": "spoke",
        "kind": kind,
        "status": "approved" if enabled else "suspended",
        "suspended_reason": None if enabled else "disabled in legacy registry",
        "trust_level": trust_level,
        "max_classification": _TRUST[trust_level],
        "issuer": issuer,
        "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
        "link_status": "pending",
        "source": "legacy_import",
        "metadata_": metadata,
    }
    plan.spokes.append(LegacySpoke(code, values))


def _plan_matrix(plan: LegacyPlan, matrix: Any) -> None:
    known = set(plan.hub_codes) | set(plan.accepted) | set(plan.kept) | {catalog.HUB}
    if not isinstance(matrix, Mapping):
        return
    for owner, partners in matrix.items():
        for partner in partners if isinstance(partners, list) else []:
            a, b = str(owner).lower(), str(partner).lower()
            if a == b:
                plan.self_references += 1
            elif a in known and b in known:
                if (a, b) not in plan.pairs:
                    plan.pairs.append((a, b))
            else:
                plan.warnings.append(f"matrix pair {a.upper()}→{b.upper()} names an unknown instance; ignored")
    for code in plan.accepted:
        if (code, catalog.HUB) in plan.pairs or (catalog.HUB, code) in plan.pairs:
            plan.link_codes.append(code)


def _compare_claims(plan: LegacyPlan, mapping: Any) -> None:
    if not isinstance(mapping, Mapping):
        return
    differences = sorted(set(map(str, mapping)) ^ set(_FIXED_CLAIMS))
    if differences:
        plan.warnings.append(f"attributeMapping differs from the fixed claim set (not imported): {differences}")


def _remote_urls(code: str, services: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    urls = {column: _service_url(services[name]) for name, column in _SERVICE_FIELDS.items() if name in services}
    missing = [name for name, column in _SERVICE_FIELDS.items() if column not in urls and name != "kas"]
    if missing:
        raise LegacyRegistryError(f"remote services lack {', '.join(missing)}")
    if "kas_url" not in urls:
        host = str(services["keycloak"].get("hostname"))
        urls["kas_url"] = f"https://{host}:{catalog.port(code, 'kas', shift=catalog.port_shift(environ))}/kas"
    elif not urls["kas_url"].endswith("/kas"):
        urls["kas_url"] += "/kas"
    return urls


def _service_url(service: Any) -> str:
    if not isinstance(service, Mapping) or not service.get("hostname"):
        raise LegacyRegistryError("a service has no hostname")
    protocol, port = str(service.get("protocol") or "https"), service.get("externalPort")
    suffix = "" if port in (None, 443, "443") else f":{port}"
    return f"{protocol}://{service['hostname']}{suffix}"


def _local_urls(code: str, environ: Mapping[str, str]) -> dict[str, str]:
    host, shift = environ.get("DIVE_PUBLIC_HOST") or "localhost", catalog.port_shift(environ)
    base = {svc: f"https://{host}:{catalog.port(code, svc, shift=shift)}" for svc in ("idp", "api", "web")}
    kas = catalog.kas_url(code, host=host, shift=shift)
    return {"idp_url": base["idp"], "api_url": base["api"], "web_url": base["web"], "kas_url": kas}


def _is_code(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha()
