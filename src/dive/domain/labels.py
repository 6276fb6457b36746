"""Resource security labels: the checks of `data.dive.labels.check` and the search pushdown columns.

spec/abac.md §3.2 P7–P12, §3.3 (equivalency path), §3.5 (`coiOperator`), §3.6 (`creationDate`), §3.12 V1–V7 and
§9.2. The texts are the spec's words, the same ones the Rego produces. Inputs are the decoded JSON
`input.resource` object; a field of the wrong JSON type counts as absent (§1.2).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from dive.domain.clearance import is_level, normalize, rank
from dive.domain.coi import ANY_CONTAINMENT_PAIRS, COI_MEMBERS
from dive.domain.countries import ISO_ALPHA3, is_valid_country
from dive.domain.inputs import ascii_upper, is_present, render_list, render_value, string_set, trim
from dive.domain.timeparse import parse_rfc3339
from dive.types import LEVELS, Level

__all__ = [
    "COI_OPERATORS",
    "LabelCheck",
    "LabelColumns",
    "check_label",
    "classification",
    "coherence_violations",
    "coi_operator",
    "creation_date_problems",
    "derive_label_columns",
    "equivalency_problems",
    "operator_problems",
    "resource_cois",
    "resource_problems",
]

COI_OPERATORS: Final = ("ALL", "ANY")
US_ONLY: Final = "US-ONLY"
NOFORN: Final = "NOFORN"

CoiMembers = Mapping[str, Collection[str]]


@dataclass(frozen=True)
class LabelCheck:
    """The answer of `data.dive.labels.check`."""

    valid: bool
    violations: list[str]


@dataclass(frozen=True, kw_only=True)
class LabelColumns:
    """The per-resource pushdown columns of §9.2 (`integrity_ok` comes from the ZTDF reader, not the label)."""

    classification_rank: int | None  # None when the classification is not canonical (then `label_ok` is false)
    releasability: tuple[str, ...]  # distinct string codes, in label order: `resource_releasability` rows
    cois: tuple[str, ...]  # distinct tags, sorted: `resource_coi` rows; `coi_count` is its length
    coi_operator: str
    has_us_only: bool
    creation_ts: datetime | None
    releasable_to_industry: bool
    label_ok: bool
    label_ok_strict: bool

    @property
    def coi_count(self) -> int:
        return len(self.cois)


def classification(resource: Mapping[str, object]) -> Level | None:
    """§3 `cls`: `classification` when it is one of the five canonical names exactly, otherwise None."""
    value = resource.get("classification")
    return value if is_level(value) else None


def coi_operator(resource: Mapping[str, object]) -> str:
    """§3 `op`: the trimmed, ASCII-uppercased `coiOperator` when present, otherwise `ALL` (may be invalid)."""
    value = resource.get("coiOperator")
    return ascii_upper(trim(value)) if isinstance(value, str) and is_present(value) else "ALL"


def resource_cois(resource: Mapping[str, object]) -> frozenset[str]:
    """§3 `RC`: the strings of `COI` when it is a list."""
    return string_set(resource.get("COI"))


def resource_problems(resource: Mapping[str, object], valid: Container[str] = ISO_ALPHA3) -> list[str]:
    """The problem texts P7–P12 of §3.2, in order; `valid` is the set of valid country codes."""
    problems: list[str] = []
    value = resource.get("classification")
    if not is_present(value):
        problems.append("the resource has no classification")
    elif not is_level(value):
        problems.append(
            f"the resource classification '{value}' is not one of {', '.join(LEVELS)}",
        )
    rel = resource.get("releasabilityTo")
    if not isinstance(rel, list):
        problems.append("the resource has no releasability list")
    else:
        invalid = [code for code in rel if not is_valid_country(code, valid)]
        if invalid:
            problems.append(f"the resource releasability list contains invalid country codes: {render_list(invalid)}")
    for key, text in (
        ("COI", "the resource COI field is not a list"),
        ("caveats", "the resource caveats field is not a list"),
    ):
        if resource.get(key) is not None and not isinstance(resource.get(key), list):
            problems.append(text)
    return problems


def equivalency_problems(resource: Mapping[str, object]) -> list[str]:
    """§3.3 equivalency path: when both original fields are present, the marking must mean `cls`."""
    original, country = resource.get("originalClassification"), resource.get("originalCountry")
    if not (isinstance(original, str) and is_present(original) and is_present(country)):
        return []
    level = normalize(original, country)
    if level is None:
        return [f"the resource marking '{trim(original)}' is not a recognized classification for {country}"]
    cls = classification(resource)
    if cls is not None and level != cls:
        marking = f"the resource marking '{trim(original)}' ({country})"
        return [f"{marking} means {level}, which contradicts its classification {cls}"]
    return []


def creation_date_problems(resource: Mapping[str, object]) -> list[str]:
    """§3.6: a `creationDate` that is neither absent, null nor an accepted RFC 3339 string."""
    value = resource.get("creationDate")
    if value is None or parse_rfc3339(value) is not None:
        return []
    return [f"the resource creation date '{render_value(value)}' is not a valid RFC 3339 timestamp"]


def operator_problems(resource: Mapping[str, object]) -> list[str]:
    """§3.5: a `coiOperator` other than ALL or ANY."""
    op = coi_operator(resource)
    return [] if op in COI_OPERATORS else [f"the resource uses an unknown COI operator '{op}' (expected ALL or ANY)"]


def coherence_violations(
    resource: Mapping[str, object], *, strict: bool, coi_members: CoiMembers = COI_MEMBERS
) -> list[str]:
    """The violation texts V1–V7 of §3.12, in order; V6 and V7 only when `strict`."""
    rc = resource_cois(resource)
    caveats = resource.get("caveats")
    noforn = isinstance(caveats, list) and NOFORN in caveats
    rel = resource.get("releasabilityTo")
    violations: list[str] = []
    if US_ONLY in rc and len(rc) > 1:
        violations.append(f"US-ONLY cannot be combined with other communities ({render_list(rc - {US_ONLY})})")
    if "EU-RESTRICTED" in rc and "NATO-COSMIC" in rc:
        violations.append("EU-RESTRICTED cannot be combined with NATO-COSMIC")
    if noforn and rc != {US_ONLY}:
        violations.append("the NOFORN caveat requires the COI list to be exactly US-ONLY")
    if noforn and not (isinstance(rel, list) and rel and all(code == "USA" for code in rel)):
        violations.append("the NOFORN caveat requires releasability to be exactly USA")
    if coi_operator(resource) == "ANY":
        violations.extend(
            f"with operator ANY, {a} must not be combined with {b}, which contains it"
            for a, b in ANY_CONTAINMENT_PAIRS
            if a in rc and b in rc
        )
    if strict:
        violations.extend(_strict_violations(rc, rel, coi_members))
    return violations


def _strict_violations(rc: frozenset[str], rel: object, coi_members: CoiMembers) -> list[str]:
    violations: list[str] = []
    member_lists = [coi_members[coi] for coi in rc if coi_members.get(coi)]
    if member_lists and isinstance(rel, list):  # V6: program COIs (no members) add no countries
        members = {code for codes in member_lists for code in codes}
        outside = {code for code in rel if isinstance(code, str) and code not in members}
        if outside:
            violations.append(
                f"releasable countries {render_list(outside)} are not members of any of the resource's communities"
            )
    unknown = {coi for coi in rc if coi not in coi_members}
    if unknown:  # V7
        violations.append(f"unknown communities {render_list(unknown)}")
    return violations


def check_label(
    resource: Mapping[str, object],
    *,
    strict: bool,
    valid: Container[str] = ISO_ALPHA3,
    coi_members: CoiMembers = COI_MEMBERS,
) -> LabelCheck:
    """`data.dive.labels.check`: P7–P12, the equivalency path, `creationDate`, `coiOperator`, then V1–V7."""
    violations = [
        *resource_problems(resource, valid),
        *equivalency_problems(resource),
        *creation_date_problems(resource),
        *operator_problems(resource),
        *coherence_violations(resource, strict=strict, coi_members=coi_members),
    ]
    return LabelCheck(valid=not violations, violations=violations)


def derive_label_columns(
    resource: Mapping[str, object], *, valid: Container[str] = ISO_ALPHA3, coi_members: CoiMembers = COI_MEMBERS
) -> LabelColumns:
    """§9.2: the stored columns the search predicate reads; recompute them when the registry changes."""
    cls = classification(resource)
    rel = resource.get("releasabilityTo")
    rc = resource_cois(resource)
    label_ok = not (
        resource_problems(resource, valid)
        or equivalency_problems(resource)
        or creation_date_problems(resource)
        or coherence_violations(resource, strict=False, coi_members=coi_members)
    )
    strict_ok = label_ok and not coherence_violations(resource, strict=True, coi_members=coi_members)
    return LabelColumns(
        classification_rank=rank(cls) if cls is not None else None,
        releasability=tuple(dict.fromkeys(code for code in rel if isinstance(code, str)))
        if isinstance(rel, list)
        else (),
        cois=tuple(sorted(rc)),
        coi_operator=coi_operator(resource),
        has_us_only=US_ONLY in rc,
        creation_ts=parse_rfc3339(resource.get("creationDate")),
        releasable_to_industry=resource.get("releasableToIndustry") is True,
        label_ok=label_ok,
        label_ok_strict=strict_ok,
    )
