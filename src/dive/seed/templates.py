"""The label templates of seeded documents (spec/abac.md §7.3) and the pools an instance draws from.

Coalition templates weigh `units × 3` where the instance is releasable and `units × 2` elsewhere (upstream's ×1.5
affinity); home templates make half of a spoke's documents national or home-community ones (§7.6, D13).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from dive.domain.coi import COI_MEMBERS, home_community
from dive.domain.countries import EU_27, FVEY_5, NATO_32

__all__ = ["COALITION_TEMPLATES", "HUB", "Template", "WeightedTemplate", "coalition_pool", "home_pool"]

HUB: Final = "USA"


@dataclass(frozen=True, kw_only=True)
class Template:
    id: str
    cois: tuple[str, ...]
    operator: str  # ALL or ANY
    releasability: tuple[str, ...]  # sorted ascending
    caveats: tuple[str, ...] = ()
    industry: bool = False
    units: int = 0  # coalition only: upstream weight × 10


@dataclass(frozen=True)
class WeightedTemplate:
    template: Template
    weight: int


def _sorted(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(codes)))


def _coalition(
    id: str, cois: str, op: str, rel: str | Iterable[str], units: int, *, industry: bool = False, caveats: str = ""
) -> Template:
    """`cois`, `rel` (when a string) and `caveats` are space-separated lists."""
    return Template(
        id=id,
        cois=tuple(cois.split()),
        operator=op,
        releasability=_sorted(rel.split() if isinstance(rel, str) else rel),
        caveats=tuple(caveats.split()),
        industry=industry,
        units=units,
    )


# §7.3, in table order (the draw walks this order).
COALITION_TEMPLATES: Final[tuple[Template, ...]] = (
    _coalition("C01", "US-ONLY", "ALL", "USA", 35, caveats="NOFORN"),
    _coalition("C02", "US-ONLY", "ALL", "USA", 35, industry=True),
    _coalition("C03", "CAN-US", "ALL", "CAN USA", 37, industry=True),
    _coalition("C04", "GBR-US", "ALL", "GBR USA", 37, industry=True),
    _coalition("C05", "FRA-US", "ALL", "FRA USA", 36, industry=True),
    _coalition("C06", "DEU-US", "ALL", "DEU USA", 36, industry=True),
    _coalition("C07", "FVEY", "ALL", FVEY_5, 70),
    _coalition("C08", "AUKUS", "ALL", "AUS GBR USA", 40),
    _coalition("C09", "NATO", "ALL", NATO_32, 80),
    _coalition("C10", "NATO-COSMIC", "ALL", NATO_32, 30),
    _coalition("C11", "EU-RESTRICTED", "ALL", EU_27, 50),
    _coalition("C12", "QUAD", "ALL", "AUS IND JPN USA", 40),
    _coalition("C13", "NORTHCOM", "ALL", "CAN MEX USA", 32, industry=True),
    _coalition("C14", "EUCOM", "ALL", "DEU ESP FRA GBR ITA POL USA", 34),
    _coalition("C15", "PACOM", "ALL", "AUS JPN KOR NZL PHL USA", 33),
    _coalition("C16", "CENTCOM", "ALL", "ARE BHR EGY JOR KWT QAT SAU USA", 31),
    _coalition("C17", "SOCOM", "ALL", "AUS CAN GBR NZL USA", 30),
    _coalition("C18", "Alpha", "ALL", "FRA GBR USA", 60),
    _coalition("C19", "Beta", "ALL", "DEU USA", 60),
    _coalition("C20", "Gamma", "ALL", "CAN USA", 60),
    _coalition("C21", "NATO QUAD", "ANY", [*NATO_32, "AUS", "IND", "JPN"], 25),
    _coalition("C22", "EUCOM PACOM", "ANY", "AUS DEU ESP FRA GBR ITA JPN KOR NZL PHL POL USA", 25),
    _coalition("C23", "NORTHCOM EUCOM", "ANY", "CAN DEU ESP FRA GBR ITA MEX POL USA", 25),
    _coalition("C24", "", "ALL", "CAN DEU FRA GBR USA", 70, industry=True),
    _coalition("C25", "", "ALL", "AUS CAN GBR USA", 70, industry=True),
    _coalition("C26", "", "ALL", FVEY_5, 30, industry=True),
    _coalition("C27", "", "ALL", "CAN DEU FRA GBR HUN POL ROU USA", 34, industry=True),
)
_EU_ONLY: Final = frozenset({"C11"})  # seeded only where the instance is an EU-27 member


def coalition_pool(inst: str) -> tuple[WeightedTemplate, ...]:
    """The coalition templates seeded on `inst` with their effective weights."""
    return tuple(
        WeightedTemplate(t, t.units * (3 if inst in t.releasability else 2))
        for t in COALITION_TEMPLATES
        if t.id not in _EU_ONLY or inst in EU_27
    )


def home_pool(inst: str) -> tuple[WeightedTemplate, ...]:
    """H1–H4 of `inst` (a spoke); H3 and H4 exist only when the instance has a home community."""
    home = home_community(inst)
    national = Template(id="H1", cois=(), operator="ALL", releasability=(inst,), industry=True)
    with_hub = Template(id="H2", cois=(), operator="ALL", releasability=_sorted([inst, HUB]), industry=True)
    if home is None:
        return (WeightedTemplate(national, 8), WeightedTemplate(with_hub, 2))
    members = _sorted(COI_MEMBERS[home])
    return (
        WeightedTemplate(national, 4),
        WeightedTemplate(with_hub, 2),
        WeightedTemplate(Template(id="H3", cois=(home,), operator="ALL", releasability=members), 2),
        WeightedTemplate(Template(id="H4", cois=(), operator="ALL", releasability=members, industry=True), 2),
    )
