"""STANAG 4774 confidentiality label as JSON (spec/ztdf-kas.md §5.2 rendering, §5.5 reading)."""

from __future__ import annotations

from collections.abc import Mapping

from .label import CLASSIFICATIONS, Label, ReadLabel, display_marking

__all__ = ["STANAG_4774_SCHEMA", "normalize_classification", "parse_4774", "render_4774"]

STANAG_4774_SCHEMA = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"

_TAG_REL = ("releasable to", "rel to")
_TAG_COI = ("coi", "communities of interest")
_NATO_FORMS = {
    "NATO UNCLASSIFIED": "UNCLASSIFIED",
    "NATO RESTRICTED": "RESTRICTED",
    "NATO CONFIDENTIAL": "CONFIDENTIAL",
    "NATO SECRET": "SECRET",
    "COSMIC TOP SECRET": "TOP_SECRET",
}


def _category(kind: str, tag: str, values: tuple[str, ...]) -> dict[str, object]:
    return {"Type": kind, "TagName": tag, "GenericValues": list(values)}


def _categories(label: Label) -> list[dict[str, object]]:
    categories = [_category("PERMISSIVE", "Releasable to", label.releasable_to)]
    if label.cois:
        categories.append(_category("RESTRICTIVE" if label.coi_operator == "ALL" else "PERMISSIVE", "COI", label.cois))
    if label.caveats:
        categories.append(_category("INFORMATIVE", "Caveats", label.caveats))
    if label.releasable_to_industry:
        categories.append(_category("INFORMATIVE", "Releasable to Industry", ("TRUE",)))
    return categories


def render_4774(label: Label) -> dict[str, object]:
    """The `statement.value` of the label assertion, keys in the order of §5.2."""
    originator: dict[str, str] = {"Country": label.originator_country}
    if label.originator_id:
        originator["Id"] = label.originator_id
    return {
        "Xmlns": STANAG_4774_SCHEMA,
        "CreationTime": label.creation_date,
        "ConfidentialityInformation": {
            "PolicyIdentifier": label.policy_identifier,
            "Classification": label.classification.replace("_", " "),
            "Category": _categories(label),
        },
        "OriginatorConfidentialityInformation": {
            "PolicyIdentifier": label.national_country,
            "Classification": label.national_classification,
        },
        "Originator": originator,
        "DisplayMarking": display_marking(label),
    }


def normalize_classification(text: str) -> str:
    """Space, underscore and NATO forms map to the canonical level; anything else is kept for display."""
    upper = text.strip().upper()
    if upper in _NATO_FORMS:
        return _NATO_FORMS[upper]
    candidate = upper.replace(" ", "_")
    return candidate if candidate in CLASSIFICATIONS else text


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _text(parent: Mapping[str, object], key: str) -> str | None:
    value = parent.get(key)
    return value if isinstance(value, str) else None


def _object(parent: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def parse_4774(assertion_id: str, value: Mapping[str, object]) -> ReadLabel:
    info = _object(value, "ConfidentialityInformation")
    raw_categories = info.get("Category", [])
    categories = [raw_categories] if isinstance(raw_categories, dict) else raw_categories
    fields: dict[str, object] = {}
    others: list[tuple[str, tuple[str, ...]]] = []
    for category in categories if isinstance(categories, list) else []:
        if not isinstance(category, dict):
            continue
        tag = str(category.get("TagName", "")).strip().lower()
        values = _strings(category.get("GenericValues"))
        if tag in _TAG_REL:
            fields["releasable_to"] = tuple(v.upper() for v in values)
        elif tag in _TAG_COI:
            fields["cois"] = values
            fields["coi_operator"] = "ALL" if category.get("Type") == "RESTRICTIVE" else "ANY"
        elif tag == "caveats":
            fields["caveats"] = values
        elif tag == "releasable to industry":
            fields["releasable_to_industry"] = tuple(v.upper() for v in values) == ("TRUE",)
        else:
            others.append((str(category.get("TagName", "")), values))
    national = _object(value, "OriginatorConfidentialityInformation")
    classification = _text(info, "Classification")
    return ReadLabel(
        assertion_id=assertion_id,
        schema=STANAG_4774_SCHEMA,
        classification=normalize_classification(classification) if classification else None,
        creation_time=_text(value, "CreationTime"),
        originator_country=_text(_object(value, "Originator"), "Country"),
        original_classification=_text(national, "Classification"),
        original_country=_text(national, "PolicyIdentifier"),
        policy_identifier=_text(info, "PolicyIdentifier"),
        display_marking=_text(value, "DisplayMarking"),
        other_categories=tuple(others),
        **fields,  # type: ignore[arg-type]
    )
