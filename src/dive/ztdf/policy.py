"""The ZTDF policy object and DIVE attribute FQNs (spec/ztdf-kas.md §4)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .encoding import b64decode, b64encode
from .errors import PolicyInvalidError, PolicyUnknownAttributeError
from .label import CoiOperator, Label

__all__ = [
    "DEFAULT_NAMESPACE",
    "DiveBody",
    "Policy",
    "PolicyRequirements",
    "attribute_fqns",
    "build_policy",
    "parse_policy",
    "policy_requirements",
]

DEFAULT_NAMESPACE = "https://dive.nato.int"
MAX_POLICY_BYTES = 64 * 1024
_NAME_VALUE = r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?"
_FQN = re.compile(rf"(?P<ns>.+)/attr/(?P<name>{_NAME_VALUE})/value/(?P<value>{_NAME_VALUE})")
_KNOWN_NAMES = ("classification", "releasable-to", "coi", "coi-any", "caveat", "releasable-to-industry")


@dataclass(frozen=True, kw_only=True)
class DiveBody:
    """`body.dive`: what attributes cannot carry (§4.1)."""

    v: int = 1
    resource_id: str | None = None
    instance: str | None = None
    creation_date: str | None = None
    original_classification: str | None = None
    original_country: str | None = None


@dataclass(frozen=True, kw_only=True)
class Policy:
    uuid: str
    data_attributes: tuple[str, ...]
    dissem: tuple[str, ...]
    dive: DiveBody | None


@dataclass(frozen=True, kw_only=True)
class PolicyRequirements:
    """The access attributes of a policy, mapped back to label terms (§4.4 step 3)."""

    classification: str | None
    releasable_to: tuple[str, ...]
    cois: tuple[str, ...]
    coi_operator: CoiOperator
    caveats: tuple[str, ...]
    releasable_to_industry: bool

    @property
    def is_unlabelled(self) -> bool:
        return self.classification is None and not (self.releasable_to or self.cois or self.caveats)


def attribute_fqns(label: Label, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """Classification, releasable-to, coi/coi-any, caveat, industry; values lower-case, sorted per name (§4.3)."""

    def fqns(name: str, values: tuple[str, ...]) -> list[str]:
        return [f"{namespace}/attr/{name}/value/{v}" for v in sorted({v.lower() for v in values})]

    return [
        *fqns("classification", (label.classification,)),
        *fqns("releasable-to", label.releasable_to),
        *fqns("coi" if label.coi_operator == "ALL" else "coi-any", label.cois),
        *fqns("caveat", label.caveats),
        *fqns("releasable-to-industry", ("true",) if label.releasable_to_industry else ()),
    ]


def build_policy(
    label: Label, *, namespace: str = DEFAULT_NAMESPACE, resource_id: str | None = None, policy_uuid: str | None = None
) -> str:
    """The policy string PS: b64 of the compact policy JSON, key order as in §4.1."""
    dive: dict[str, object] = {"v": 1}
    if resource_id is not None:
        dive["resourceId"] = resource_id
    dive |= {
        "instance": label.originator_country,
        "creationDate": label.creation_date,
        "originalClassification": label.national_classification,
        "originalCountry": label.national_country,
    }
    body = {
        "dataAttributes": [{"attribute": fqn} for fqn in attribute_fqns(label, namespace)],
        "dissem": [],
        "dive": dive,
    }
    document = {"uuid": policy_uuid or str(uuid.uuid4()), "body": body}
    return b64encode(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _optional_text(dive: Mapping[str, object], key: str) -> str | None:
    value = dive.get(key)
    if value is not None and not isinstance(value, str):
        raise PolicyInvalidError(f"policy body.dive.{key} is not a string")
    return value


def _dive_body(raw: object) -> DiveBody | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise PolicyInvalidError("policy body.dive is not an object")
    version = raw.get("v", 1)
    if version != 1:
        raise PolicyInvalidError(f"policy body.dive.v={version!r} is not supported (1)")
    creation = _optional_text(raw, "creationDate")
    if creation is not None:
        try:
            datetime.fromisoformat(creation.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PolicyInvalidError(f"policy creationDate {creation!r} is not RFC 3339") from exc
    return DiveBody(
        resource_id=_optional_text(raw, "resourceId"),
        instance=_optional_text(raw, "instance"),
        creation_date=creation,
        original_classification=_optional_text(raw, "originalClassification"),
        original_country=_optional_text(raw, "originalCountry"),
    )


def _string_list(raw: object, key: str, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyInvalidError(f"policy body.{what} is not an array")
    if key:
        raw = [item.get(key) if isinstance(item, dict) else None for item in raw]
    if not all(isinstance(item, str) for item in raw):
        raise PolicyInvalidError(f"policy body.{what} holds a non-string entry")
    return tuple(raw)


def parse_policy(policy: str) -> Policy:
    """Decode PS (≤ 64 KiB) into a Policy; PolicyInvalidError on anything malformed (§4.4 steps 1, 2, 4)."""
    if len(policy) > MAX_POLICY_BYTES:
        raise PolicyInvalidError(f"the policy string is longer than {MAX_POLICY_BYTES} bytes")
    try:
        document = json.loads(b64decode(policy).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise PolicyInvalidError(f"the policy is not base64 of a JSON document: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("uuid"), str):
        raise PolicyInvalidError("the policy must be an object with a string uuid")
    body = document.get("body")
    if not isinstance(body, dict):
        raise PolicyInvalidError("the policy has no body object")
    return Policy(
        uuid=document["uuid"],
        data_attributes=_string_list(body.get("dataAttributes"), "attribute", "dataAttributes"),
        dissem=_string_list(body.get("dissem"), "", "dissem"),
        dive=_dive_body(body.get("dive")),
    )


def _group_values(policy: Policy, namespaces: tuple[str, ...]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {name: [] for name in _KNOWN_NAMES}
    for fqn in policy.data_attributes:
        match = _FQN.fullmatch(fqn.lower())
        if match is None or match["ns"] not in namespaces or match["name"] not in groups:
            raise PolicyUnknownAttributeError(f"attribute {fqn!r} is not a known DIVE attribute", {"attribute": fqn})
        groups[match["name"]].append(match["value"])
    for name, values in groups.items():
        if len(values) != len(set(values)):
            raise PolicyInvalidError(f"attribute {name} lists a value twice")
    return groups


def policy_requirements(policy: Policy, namespaces: tuple[str, ...] = (DEFAULT_NAMESPACE,)) -> PolicyRequirements:
    """Map FQNs back to label terms, failing closed on anything not understood (§4.4 steps 2–3)."""
    groups = _group_values(policy, tuple(ns.lower() for ns in namespaces))
    if len(groups["classification"]) > 1:
        raise PolicyInvalidError("the policy has more than one classification")
    if groups["coi"] and groups["coi-any"]:
        raise PolicyInvalidError("the policy has both coi and coi-any attributes")
    if any(len(c) != 3 or not c.isalpha() for c in groups["releasable-to"]):
        raise PolicyInvalidError("a releasable-to value is not an ISO 3166-1 alpha-3 code")
    return PolicyRequirements(
        classification=groups["classification"][0].upper() if groups["classification"] else None,
        releasable_to=tuple(c.upper() for c in groups["releasable-to"]),
        cois=tuple(c.upper() for c in groups["coi"] or groups["coi-any"]),
        coi_operator="ANY" if groups["coi-any"] else "ALL",
        caveats=tuple(c.upper() for c in groups["caveat"]),
        releasable_to_industry=bool(groups["releasable-to-industry"]),
    )
