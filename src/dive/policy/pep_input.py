"""The decision input as the PEP builds it (spec/abac.md §1.2; CONSISTENCY #1, #4, #11, #12).

One builder for the api, the KAS and the search pushdown's property test (abac §9.4 `input(s, d, read, t)`), so all of
them decide on the same subject. Claims are the *verified* access-token claims; nothing is inferred or normalised
here: the policy normalises the clearance itself (D5) and no COI, country or organisation type is ever added (D7).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from dive.domain.inputs import trim

__all__ = [
    "StoredResource",
    "build_context",
    "build_kas_input",
    "build_read_input",
    "build_resource",
    "build_subject",
    "format_current_time",
    "ztdf_integrity",
]

# Label fields copied verbatim from the stored label (abac §1.2 names, CONSISTENCY #36), with what an absent one
# becomes: the policy reads each of these defaults exactly as it reads an absent field.
_LABEL_DEFAULTS: Final[Mapping[str, object]] = {
    "classification": None,
    "releasabilityTo": None,
    "COI": [],
    "coiOperator": "ALL",
    "caveats": [],
    "releasableToIndustry": False,
}
_LABEL_OPTIONAL: Final = ("originalClassification", "originalCountry", "creationDate")


class StoredResource(Protocol):
    """What the builder reads from a stored document; `dive.store.models.Resource` satisfies it."""

    @property
    def resource_id(self) -> str: ...
    @property
    def instance_code(self) -> str: ...
    @property
    def label(self) -> Mapping[str, Any]: ...
    @property
    def encrypted(self) -> bool: ...
    @property
    def kas_urls(self) -> Sequence[str] | None: ...
    @property
    def manifest(self) -> Mapping[str, Any] | None: ...
    @property
    def integrity_ok(self) -> bool: ...


def build_subject(claims: Mapping[str, object], *, authenticated: bool) -> dict[str, object]:
    """`input.subject` from verified token claims (§1.2). `authenticated` is true only after full verification."""
    subject: dict[str, object] = {
        "authenticated": authenticated is True,
        "uniqueID": claims.get("uniqueID", ""),
        "clearance": _unwrap_single(claims.get("clearance", "")),
        "countryOfAffiliation": claims.get("countryOfAffiliation", ""),
        "acpCOI": _claim_list(claims.get("acpCOI"), split_commas=True),
        "organizationType": claims.get("organizationType", ""),
        "issuer": claims.get("iss", ""),
    }
    if "clearanceCountry" in claims:  # CONSISTENCY #1: only from the claim, never from countryOfAffiliation
        subject["clearanceCountry"] = claims["clearanceCountry"]
    return subject


def build_context(
    claims: Mapping[str, object],
    *,
    tenant: str,
    now: datetime,
    request_id: str | None = None,
    source_ip: str | None = None,
) -> dict[str, object]:
    """`input.context`: the request time, the token's own `acr`/`amr` (CONSISTENCY #4) and the deciding instance."""
    context: dict[str, object] = {"currentTime": format_current_time(now), "tenant": tenant.upper()}
    if "acr" in claims:
        context["acr"] = claims["acr"]
    if "amr" in claims:
        context["amr"] = _claim_list(claims["amr"], split_commas=False)
    if request_id is not None:
        context["requestId"] = request_id
    if source_ip is not None:
        context["sourceIP"] = source_ip
    return context


def build_resource(resource: StoredResource) -> dict[str, object]:
    """`input.resource` of a stored document: its label verbatim, `kasUrls` and the `ztdf` result (CONSISTENCY #12)."""
    built = _label_fields(resource.label)
    built["resourceId"] = resource.resource_id
    built["encrypted"] = resource.encrypted is True
    if resource.encrypted:
        built["kasUrls"] = list(dict.fromkeys(resource.kas_urls or ()))
    if resource.manifest is not None:
        built["ztdf"] = ztdf_integrity(resource.manifest, integrity_ok=resource.integrity_ok)
    built["originInstance"] = resource.instance_code.upper()
    return built


def build_read_input(
    claims: Mapping[str, object],
    resource: StoredResource,
    *,
    authenticated: bool,
    tenant: str,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, object]:
    """The complete input for opening (`read`) a stored document (§1.2), as the api sends it."""
    return {
        "subject": build_subject(claims, authenticated=authenticated),
        "action": {"operation": "read"},
        "resource": build_resource(resource),
        "context": build_context(claims, tenant=tenant, now=now, request_id=request_id),
    }


def build_kas_input(
    claims: Mapping[str, object],
    label: Mapping[str, object],
    *,
    resource_id: str,
    origin_instance: str,
    tenant: str,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, object]:
    """The KAS's `decrypt` input (CONSISTENCY #11): the label of the bound policy, no `ztdf` and no `kasUrls`."""
    resource = _label_fields(label)
    resource.update(resourceId=resource_id, encrypted=True, originInstance=origin_instance.upper())
    return {
        "subject": build_subject(claims, authenticated=True),
        "action": {"operation": "decrypt"},
        "resource": resource,
        "context": build_context(claims, tenant=tenant, now=now, request_id=request_id),
    }


def ztdf_integrity(manifest: Mapping[str, Any], *, integrity_ok: bool) -> dict[str, object]:
    """CONSISTENCY #12: the stored integrity result, the SHA-256 of the manifest's policy string and the root signature.

    A hash that cannot be read is sent as `""`, which the policy denies (§3.7); the writer stores `integrity_ok`
    false for such a manifest (§9.2), so the search filter agrees.
    """
    encryption = _member(manifest, "encryptionInformation")
    policy = encryption.get("policy")
    signature = _member(_member(encryption, "integrityInformation"), "rootSignature").get("sig")
    return {
        "integrityValidated": integrity_ok is True,
        "policyHash": hashlib.sha256(policy.encode("utf-8")).hexdigest() if isinstance(policy, str) and policy else "",
        "payloadHash": signature if isinstance(signature, str) else "",
    }


def format_current_time(now: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z`, inside the grammar every engine accepts (§1.6)."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()} has no time zone; pass an aware time")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _label_fields(label: Mapping[str, Any]) -> dict[str, object]:
    fields: dict[str, object] = {name: label.get(name, default) for name, default in _LABEL_DEFAULTS.items()}
    fields.update({name: label[name] for name in _LABEL_OPTIONAL if name in label})
    return fields


def _unwrap_single(value: object) -> object:
    """§1.2: a one-element array clearance claim is unwrapped; anything else goes to the policy as it is."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _claim_list(value: object, *, split_commas: bool) -> object:
    """§1.2 `acpCOI`/`amr`: a JSON-array string is parsed; another string is split on commas (`acpCOI`) or becomes a
    one-element list (`amr`). Absent or null gives `[]`; a non-list of another type goes through, and the policy
    then denies (P6)."""
    if value is None:
        return []
    if not isinstance(value, str):
        return value
    parsed = _json_array(value)
    if parsed is not None:
        return parsed
    if not split_commas:
        return [value]
    return [trim(item) for item in value.split(",") if trim(item)]


def _json_array(text: str) -> list[object] | None:
    if not text.lstrip().startswith("["):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) else None


def _member(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name)
    return value if isinstance(value, Mapping) else {}
