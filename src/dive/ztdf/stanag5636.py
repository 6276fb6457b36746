"""STANAG 5636 JSON labels as OpenTDF SDKs write them (spec/ztdf-kas.md §5.5); informational only."""

from __future__ import annotations

from collections.abc import Mapping

from .label import ReadLabel
from .stanag4774 import normalize_classification

__all__ = ["STANAG_5636_SCHEMA", "is_5636", "parse_5636"]

STANAG_5636_SCHEMA = "urn:nato:stanag:5636:A:1:elements:json"


def is_5636(schema: str, format_: str, value: Mapping[str, object] | None) -> bool:
    if schema == STANAG_5636_SCHEMA or format_ == "json+stanag5636":
        return True
    context = value.get("context") if value is not None else None
    return isinstance(context, dict) and context.get("@base") == STANAG_5636_SCHEMA


def parse_5636(assertion_id: str, value: Mapping[str, object] | None) -> ReadLabel:
    ocl = value.get("ocl") if value is not None else None
    if not isinstance(ocl, dict):  # one golden file has a date string here: present, unparsed
        return ReadLabel(assertion_id=assertion_id, schema=STANAG_5636_SCHEMA, parsed=False)
    releasable: tuple[str, ...] = ()
    catl = ocl.get("catl")
    for category in catl if isinstance(catl, list) else []:
        if isinstance(category, dict) and str(category.get("name", "")).lower() == "releasable to":
            vals = category.get("vals")
            releasable = tuple(v.upper() for v in vals if isinstance(v, str)) if isinstance(vals, list) else ()
    cls = ocl.get("cls")
    return ReadLabel(
        assertion_id=assertion_id,
        schema=STANAG_5636_SCHEMA,
        classification=normalize_classification(cls) if isinstance(cls, str) else None,
        releasable_to=releasable,
        creation_time=ocl["dcr"] if isinstance(ocl.get("dcr"), str) else None,
        policy_identifier=ocl["pol"] if isinstance(ocl.get("pol"), str) else None,
    )
