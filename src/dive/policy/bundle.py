"""The policy bundle: Rego sources under `bundle/`, the static `data.json`, and `data.dive` built from them (§1.5).

`data.dive.policy.revision` is the SHA-256 hex of the Rego sources sorted by path, followed by the canonical JSON of
the rest of `data.dive`; any change of either gives a new revision, which invalidates cached decisions (§8.4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dive.policy.errors import PolicyBundleError

__all__ = [
    "BUNDLE_DIR",
    "POLICY_VERSION",
    "PolicyBundle",
    "RegistryData",
    "build_data",
    "canonical_json",
    "compute_revision",
]

BUNDLE_DIR: Final = Path(__file__).resolve().parent / "bundle"
POLICY_VERSION: Final = "1.0.0"


@dataclass(frozen=True)
class PolicyBundle:
    """Rego modules keyed by their path relative to the bundle directory, and the static data."""

    modules: Mapping[str, str]
    static_data: Mapping[str, object] = field(repr=False)

    @classmethod
    def load(cls, directory: Path = BUNDLE_DIR) -> PolicyBundle:
        try:
            modules = {
                path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
                for path in sorted(directory.rglob("*.rego"))
            }
            static = json.loads((directory / "data.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PolicyBundleError(f"the policy bundle in {directory} cannot be read: {exc}") from exc
        if not modules or not isinstance(static, dict):
            raise PolicyBundleError(f"{directory} holds no .rego modules or no data.json object; reinstall dive")
        return cls(modules, static)


@dataclass(frozen=True, kw_only=True)
class RegistryData:
    """The dynamic part of `data.dive`, loaded from the instance's registry (CONSISTENCY #8). Codes upper case."""

    tenant_id: str | None = None
    trusted_issuers: Mapping[str, str] = field(default_factory=dict)  # iss -> instance code
    matrix: Mapping[str, list[str]] = field(default_factory=dict)
    tenants: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    test_codes: tuple[str, ...] = ()
    coi_members: Mapping[str, list[str]] | None = None  # replaces the static §5.1 table when given


def build_data(static: Mapping[str, object], registry: RegistryData | None = None) -> dict[str, object]:
    """`data.dive` without `policy`: the static tables with the registry's part merged in."""
    registry = registry or RegistryData()
    data = json.loads(json.dumps(static))  # a deep copy that is certainly plain JSON
    valid = data.setdefault("countries", {}).setdefault("valid", {})
    valid.update(dict.fromkeys(registry.test_codes, True))
    if registry.coi_members is not None:
        data.setdefault("coi", {})["members"] = {coi: list(members) for coi, members in registry.coi_members.items()}
    data["federation"] = {
        "trusted_issuers": {iss: {"instance": code} for iss, code in registry.trusted_issuers.items()},
        "matrix": {code: list(partners) for code, partners in registry.matrix.items()},
    }
    data["tenant"] = {} if registry.tenant_id is None else {"id": registry.tenant_id}
    data["tenants"] = {code: dict(settings) for code, settings in registry.tenants.items()}
    return data


def canonical_json(value: object) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 without escaping (§8.2)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_revision(modules: Mapping[str, str], data: Mapping[str, object]) -> str:
    digest = hashlib.sha256()
    for path in sorted(modules):
        digest.update(modules[path].encode("utf-8"))
    digest.update(canonical_json({key: value for key, value in data.items() if key != "policy"}).encode("utf-8"))
    return digest.hexdigest()
