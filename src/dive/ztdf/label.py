"""The DIVE security label (spec/ztdf-kas.md §5.1) and its display marking (§5.2, CONSISTENCY #35).

Field names are the ZTDF internal names; they map one to one to the PDP's (CONSISTENCY #36):
`releasable_to` = releasabilityTo, `cois` = COI, `originator_country` = originInstance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from .errors import LabelInvalidError

__all__ = [
    "CLASSIFICATIONS",
    "Classification",
    "CoiOperator",
    "Label",
    "ReadLabel",
    "canonical_countries",
    "display_marking",
    "validate_label",
]

Classification = Literal["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"]
CoiOperator = Literal["ALL", "ANY"]
CLASSIFICATIONS: tuple[Classification, ...] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET")

_COUNTRY = re.compile(r"[A-Z]{3}")
_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")
_RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# Some SDKs escape these when re-serialising JSON, which would break assertion verification elsewhere.
_FORBIDDEN = frozenset("<>&='\u2028\u2029")


@dataclass(frozen=True, kw_only=True)
class Label:
    classification: Classification
    releasable_to: tuple[str, ...]
    originator_country: str
    creation_date: str
    cois: tuple[str, ...] = ()
    coi_operator: CoiOperator = "ALL"
    caveats: tuple[str, ...] = ()
    releasable_to_industry: bool = False
    originator_id: str | None = None
    original_classification: str | None = None
    original_country: str | None = None
    policy_identifier: str = "NATO"

    @property
    def national_classification(self) -> str:
        return self.original_classification or self.classification.replace("_", " ")

    @property
    def national_country(self) -> str:
        return self.original_country or self.originator_country


@dataclass(frozen=True, kw_only=True)
class ReadLabel:
    """A label as read from an assertion; foreign labels may leave fields empty or unparsed (§5.5)."""

    assertion_id: str
    schema: str
    parsed: bool = True
    classification: str | None = None
    releasable_to: tuple[str, ...] = ()
    cois: tuple[str, ...] = ()
    coi_operator: CoiOperator = "ALL"
    caveats: tuple[str, ...] = ()
    releasable_to_industry: bool = False
    creation_time: str | None = None
    originator_country: str | None = None
    original_classification: str | None = None
    original_country: str | None = None
    policy_identifier: str | None = None
    display_marking: str | None = None
    other_categories: tuple[tuple[str, tuple[str, ...]], ...] = ()


def canonical_countries(countries: tuple[str, ...], originator: str) -> tuple[str, ...]:
    """Originator first when listed, then alphabetical (§5.1)."""
    rest = sorted(c for c in set(countries) if c != originator)
    return (originator, *rest) if originator in countries else tuple(rest)


def display_marking(label: Label) -> str:
    """`CLS[//CAVEATS][//COIS]//REL C1, C2` — REL without TO (CONSISTENCY #35)."""
    parts = [label.classification.replace("_", " ")]
    if label.caveats:
        parts.append("/".join(label.caveats))
    if label.cois:
        parts.append(("/" if label.coi_operator == "ALL" else "|").join(label.cois))
    parts.append("REL " + ", ".join(canonical_countries(label.releasable_to, label.originator_country)))
    return "//".join(parts)


def _fail(field: str, value: object, rule: str) -> LabelInvalidError:
    return LabelInvalidError(f"label field {field}={value!r} is invalid: {rule}", {"field": field})


def _check_tokens(field: str, values: tuple[str, ...], maximum: int) -> None:
    if len(values) > maximum:
        raise _fail(field, values, f"at most {maximum} values")
    for value in values:
        if len(value) > 64 or not _TOKEN.fullmatch(value):
            raise _fail(field, value, "letters, digits, '_' or '-', at most 64 characters")


def _check_text(label: Label) -> None:
    texts = [label.originator_id, label.original_classification, label.original_country, label.policy_identifier]
    for text in texts:
        if text is not None and (not text or _FORBIDDEN & set(text)):
            raise _fail("text", text, "non-empty, without < > & = ' U+2028 U+2029")


def _check_date(value: str) -> None:
    try:
        valid = bool(_RFC3339_Z.fullmatch(value)) and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None
    except ValueError:
        valid = False
    if not valid:
        raise _fail("creation_date", value, "RFC 3339 UTC with Z, seconds precision")


def validate_label(label: Label) -> Label:
    """Check every field (§5.1) and return the label with releasability in canonical order."""
    if label.classification not in CLASSIFICATIONS:
        raise _fail("classification", label.classification, f"one of {', '.join(CLASSIFICATIONS)}")
    if not _COUNTRY.fullmatch(label.originator_country):
        raise _fail("originator_country", label.originator_country, "ISO 3166-1 alpha-3, upper case")
    if not 1 <= len(label.releasable_to) <= 64 or len(set(label.releasable_to)) != len(label.releasable_to):
        raise _fail("releasable_to", label.releasable_to, "1 to 64 distinct countries")
    for country in label.releasable_to:
        if not _COUNTRY.fullmatch(country):
            raise _fail("releasable_to", country, "ISO 3166-1 alpha-3, upper case")
    if label.coi_operator not in ("ALL", "ANY"):
        raise _fail("coi_operator", label.coi_operator, "ALL or ANY")
    _check_tokens("cois", label.cois, 32)
    _check_tokens("caveats", label.caveats, 16)
    _check_date(label.creation_date)
    _check_text(label)
    return replace(label, releasable_to=canonical_countries(label.releasable_to, label.originator_country))
