"""Deterministic seed documents (spec/abac.md §7): label, title and a short plaintext body for document `i`.

Every random choice is `u64(purpose)` = the first 8 bytes, big-endian, of SHA-256 of `"{seed}|{INST}|{i}|{purpose}"`,
so document `i` depends only on `(seed, INST, i, as-of)` and the first N of a larger run equal a run of N (§7.1).
The body is not specified upstream: it is a plain-text memo (marking banners, title, originator, reference, date and
one paragraph picked by `u64("body")`), so an opened document shows a realistic, checkable text.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Final

from dive.domain.clearance import primary_term
from dive.seed.errors import SeedCountError, SeedOptionsError
from dive.seed.templates import HUB, Template, WeightedTemplate, coalition_pool, home_pool
from dive.types import Level
from dive.ztdf import Label, display_marking

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "MAX_COUNT",
    "SeedDocument",
    "check_count",
    "seed_documents",
    "seed_label",
    "seed_resource_id",
]

DEFAULT_SEED: Final = "dive"
DEFAULT_COUNT: Final = 5000
MAX_COUNT: Final = 20_000
_AGE_RANGE_S: Final = 31_536_000  # one year (§7.4)
_HALF: Final = 1 << 63
_CODE: Final = re.compile(r"[A-Z]{3}")

# §7.2: r = u64("classification") mod 100 falls below each bound.
_CLASSIFICATION_BOUNDS: Final[tuple[tuple[int, Level], ...]] = (
    (20, "UNCLASSIFIED"),
    (35, "RESTRICTED"),
    (60, "CONFIDENTIAL"),
    (85, "SECRET"),
    (100, "TOP_SECRET"),
)

# §7.5
SUBJECTS: Final = (
    "Northern Flank", "Southern Theater", "Eastern Border", "Western Alliance", "Arctic Operations",
    "Mediterranean", "Baltic Sea", "North Atlantic", "Pacific Region", "Middle East", "Central Europe", "Balkans",
    "Cyber Domain", "Space Operations", "Maritime Security", "Air Superiority", "Counter-Terrorism",
    "Logistics Support", "Training Exercise", "Coalition Strategy",
)  # fmt: skip
PREFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    "USA": (
        "US Defense Strategy", "Pentagon Analysis", "DoD Intelligence Brief", "CENTCOM Operations",
        "State Department Report", "NSA Assessment", "CIA Intelligence Summary", "USSOCOM Mission Brief",
        "Joint Chiefs Report",
    ),
    "FRA": (
        "French Defense Ministry Report", "DGSE Intelligence Brief", "NATO-FRA Operations",
        "European Security Assessment", "Ministère des Armées Analysis", "OTAN Strategic Plan",
        "French Military Intelligence", "EU Defense Cooperation", "Mediterranean Security",
    ),
    "GBR": (
        "UK Ministry of Defence Report", "MI6 Intelligence Assessment", "NATO-GBR Operations",
        "Five Eyes Security Brief", "British Army Analysis", "Royal Navy Strategic Plan", "GCHQ Signals Intelligence",
        "UK Intelligence Summary", "Commonwealth Security",
    ),
    "DEU": (
        "German Defense Ministry Report", "BND Intelligence Brief", "NATO-DEU Operations", "Bundeswehr Analysis",
        "European Security Initiative", "German Military Intelligence", "EU Defense Integration",
        "Baltic Security Assessment", "Central European Strategy",
    ),
}  # fmt: skip
NEUTRAL_PREFIXES: Final = (
    "National Defence Report", "Joint Intelligence Summary", "Coalition Operations Brief", "Strategic Assessment",
    "Regional Security Analysis", "Operational Planning Note", "Threat Assessment", "Liaison Report",
    "Situation Report",
)  # fmt: skip

# The body's paragraph (not specified by abac §7; see the module docstring).
_PARAGRAPHS: Final = (
    "Reporting on {subject} for the period shows steady activity. {inst} liaison officers recommend that partner "
    "staffs review the attached assessment before the next coordination meeting.",
    "This note summarises the current posture in {subject}. Readiness remains adequate; no change to the alert "
    "level is proposed by {inst} at this time.",
    "Planners from {inst} assessed options for {subject}. Two courses of action are retained for further study; "
    "logistics constraints are the main limiting factor.",
    "Recent exercises covering {subject} confirmed interoperability of command and control systems. {inst} will "
    "circulate lessons identified to all releasable partners.",
    "Open and restricted sources on {subject} were reviewed by {inst} analysts. Indicators point to continuity "
    "rather than escalation over the coming quarter.",
    "{inst} requests partner input on {subject} requirements. Contributions should reach the coordination cell "
    "through established liaison channels.",
)


@dataclass(frozen=True, kw_only=True)
class SeedDocument:
    """Document `index` of instance `instance`. `label` uses the abac §1.2 names (CONSISTENCY #36)."""

    resource_id: str
    index: int
    instance: str  # upper case
    template: str  # §7.3 template id, e.g. `C09` or `H1`
    title: str
    summary: str
    label: Mapping[str, object] = field(repr=False)
    ztdf_label: Label = field(repr=False)  # the same label in the ZTDF model (ztdf-kas §5.1)
    body: str = field(repr=False)

    @property
    def plaintext(self) -> bytes:
        return self.body.encode("utf-8")


def seed_resource_id(inst: str, i: int) -> str:
    """`doc-<INST>-seed-<i as 5 digits>` (§7.1)."""
    return f"doc-{inst.upper()}-seed-{i:05d}"


def seed_label(seed: str, inst: str, i: int, as_of: datetime) -> SeedDocument:
    """Document `i` (1-based) of instance `inst`, reproducible from its arguments alone (§7)."""
    inst = _instance(inst)
    as_of = _as_of(as_of)
    if i < 1:
        raise SeedOptionsError(f"document index {i} is not 1-based; the first document is 1")
    draw = _Draw(seed, inst, i)
    level = _classification(draw.u64("classification") % 100)
    template = _template(draw, inst)
    created = (as_of - timedelta(seconds=draw.u64("age") % _AGE_RANGE_S)).strftime("%Y-%m-%dT%H:%M:%SZ")
    label = _label(inst, level, template, created)
    ztdf_label = _ztdf_label(inst, level, template, created)
    resource_id = seed_resource_id(inst, i)
    subject = SUBJECTS[draw.u64("subject") % len(SUBJECTS)]
    prefixes = PREFIXES.get(inst, NEUTRAL_PREFIXES)
    title = f"{prefixes[draw.u64('prefix') % len(prefixes)]} - {subject} {i}"
    paragraph = _PARAGRAPHS[draw.u64("body") % len(_PARAGRAPHS)].format(subject=subject, inst=inst)
    marking = display_marking(ztdf_label)
    return SeedDocument(
        resource_id=resource_id,
        index=i,
        instance=inst,
        template=template.id,
        title=title,
        summary=paragraph.split(". ")[0] + ".",
        label=label,
        ztdf_label=ztdf_label,
        body=_body(marking, title, label, resource_id, paragraph),
    )


def seed_documents(seed: str, inst: str, count: int, as_of: datetime) -> Iterator[SeedDocument]:
    """Documents 1..`count` of `inst`; `count` must lie in 1..20,000 (§7.1), checked before anything is made."""
    check_count(count)
    return (seed_label(seed, inst, i, as_of) for i in range(1, count + 1))


def check_count(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise SeedCountError(f"seed count {count!r} is outside 1..{MAX_COUNT:,}; give a whole number in that range")
    return count


class _Draw:
    def __init__(self, seed: str, inst: str, i: int) -> None:
        self._prefix = f"{seed}|{inst}|{i}|"

    def u64(self, purpose: str) -> int:
        digest = hashlib.sha256(f"{self._prefix}{purpose}".encode()).digest()
        return int.from_bytes(digest[:8], "big")


def _classification(r: int) -> Level:
    return next(level for bound, level in _CLASSIFICATION_BOUNDS if r < bound)


def _template(draw: _Draw, inst: str) -> Template:
    """§7.3 Draw: the hub always uses the coalition pool; a spoke flips `u64("pool")` between home and coalition."""
    home = inst != HUB and draw.u64("pool") < _HALF
    return _pick(home_pool(inst) if home else coalition_pool(inst), draw.u64("template"))


def _pick(pool: Sequence[WeightedTemplate], value: int) -> Template:
    """The first template, in table order, whose cumulative weight exceeds `value mod W`."""
    cumulative = list(accumulate(entry.weight for entry in pool))
    return pool[bisect_right(cumulative, value % cumulative[-1])].template


def _label(inst: str, level: Level, template: Template, created: str) -> dict[str, object]:
    """§7.4: every field written explicitly, in abac §1.2 names."""
    return {
        "classification": level,
        "originalClassification": primary_term(inst, level),
        "originalCountry": inst,
        "releasabilityTo": list(template.releasability),
        "COI": list(template.cois),
        "coiOperator": template.operator,
        "caveats": list(template.caveats),
        "releasableToIndustry": template.industry,
        "creationDate": created,
    }


def _ztdf_label(inst: str, level: Level, template: Template, created: str) -> Label:
    """The originator is the owner instance, which is abac's `originatingCountry` (CONSISTENCY #36)."""
    return Label(
        classification=level,
        releasable_to=template.releasability,
        originator_country=inst,
        creation_date=created,
        cois=template.cois,
        coi_operator="ANY" if template.operator == "ANY" else "ALL",
        caveats=template.caveats,
        releasable_to_industry=template.industry,
        original_classification=primary_term(inst, level),
        original_country=inst,
    )


def _body(marking: str, title: str, label: Mapping[str, object], resource_id: str, paragraph: str) -> str:
    lines = [
        marking,
        "",
        title,
        "",
        f"Originator: {label['originalCountry']} ({label['originalClassification']})",
        f"Reference: {resource_id}",
        f"Date: {label['creationDate']}",
        "",
        paragraph,
        "",
        marking,
    ]
    return "\n".join(lines) + "\n"


def _instance(inst: str) -> str:
    code = inst.upper()
    if not _CODE.fullmatch(code):
        raise SeedOptionsError(f"instance code {inst!r} is not three ASCII letters; use e.g. `FRA`")
    return code


def _as_of(as_of: datetime) -> datetime:
    """The reference time in UTC, whole seconds (§7.1); a naive time is refused rather than guessed."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise SeedOptionsError(f"as-of {as_of.isoformat()} has no time zone; give an RFC 3339 time such as ...Z")
    return as_of.astimezone(UTC).replace(microsecond=0)
