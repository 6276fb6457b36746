"""JSON shapes of resources (identity-api-ui §B.5.1, §B.5.2; REST names per CONSISTENCY #36, marking per #35)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dive.domain.clearance import is_level, primary_term
from dive.store.models.resources import Resource

__all__ = ["denied_label", "detail_json", "item_json", "label_json"]


def item_json(resource: Resource) -> dict[str, object]:
    """A list item: every label field the policy reads, so any instance can re-check it (§B.6, #17)."""
    label: Mapping[str, Any] = resource.label
    return {
        "resourceId": resource.resource_id,
        "instance": resource.instance_code.upper(),
        "title": resource.title,
        "summary": resource.summary,
        "classification": label.get("classification"),
        "originalClassification": label.get("originalClassification"),
        "originalCountry": label.get("originalCountry"),
        "displayMarking": resource.display_marking,
        "releasabilityTo": list(label.get("releasabilityTo") or []),
        "coi": list(label.get("COI") or []),
        "coiOperator": label.get("coiOperator", "ALL"),
        "caveats": list(label.get("caveats") or []),
        "releasableToIndustry": label.get("releasableToIndustry") is True,
        "encrypted": resource.encrypted,
        "fileType": resource.file_type,
        "mimeType": resource.mime_type,
        "sizeBytes": resource.size_bytes,
        "creationDate": label.get("creationDate"),
        "kaoCount": resource.kao_count,
    }


def detail_json(resource: Resource, decision: Mapping[str, object]) -> dict[str, object]:
    item = item_json(resource)
    item.update(
        natoEquivalent=_nato(resource),
        ztdf={
            "version": (resource.manifest or {}).get("schemaVersion", "4.3.0"),
            "kaoCount": resource.kao_count,
            "kas": [{"kasUrl": url, "kaoId": f"kao-{index}"} for index, url in enumerate(resource.kas_urls or [])],
        },
        createdBy=resource.created_by,
        decision=dict(decision),
    )
    return item


def label_json(resource: Resource) -> dict[str, object]:
    """The label alone: what a denied caller may see (§B.5.2), never the title, summary or content."""
    label: Mapping[str, Any] = resource.label
    return {
        "classification": label.get("classification"),
        "displayMarking": resource.display_marking,
        "releasabilityTo": list(label.get("releasabilityTo") or []),
        "coi": list(label.get("COI") or []),
        "coiOperator": label.get("coiOperator", "ALL"),
        "caveats": list(label.get("caveats") or []),
    }


def denied_label(resource: Resource, decision: Mapping[str, object]) -> dict[str, object]:
    return {
        "resourceId": resource.resource_id,
        "instance": resource.instance_code.upper(),
        "decision": dict(decision),
        "label": label_json(resource),
    }


def _nato(resource: Resource) -> str | None:
    classification = resource.label.get("classification")
    return primary_term("NATO", classification) if is_level(classification) else None
