"""Phases and the pure decisions of a run (spec/orchestration.md §4.1–§4.2): which phases a run selects, which of
them it skips and why, and which one comes next. No I/O here; `dive.orchestration.pipeline` drives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from dive.orchestration.errors import UsageError

if TYPE_CHECKING:
    from dive.orchestration.pipeline import PhaseContext

__all__ = [
    "Check",
    "Phase",
    "PlannedStep",
    "RunKind",
    "Selection",
    "next_phase",
    "plan_phases",
    "resume_point",
    "select_phases",
]

RunKind = Literal["full", "resume", "partial", "operation"]
Action = Literal["run", "skip"]


@dataclass(frozen=True)
class Check:
    """The answer of a read-only live check: passed or not, and why."""

    ok: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class Phase:
    """One named step of a pipeline. `run` MUST be idempotent; `is_complete` and `plan` are read-only."""

    name: str
    title: str
    state: str  # the deployment state set before it runs (full and resume runs)
    budget_s: float  # hard timeout
    run: Callable[[PhaseContext], str | None]  # returns a one-line summary
    is_complete: Callable[[PhaseContext], Check]
    plan: Callable[[PhaseContext], list[str]]
    fatal: bool = True
    optional: bool = False  # may be skipped with --skip-phase
    always_runs: bool = False  # never skipped on a checkpoint (PREFLIGHT, VERIFICATION)
    crash_points: tuple[str, ...] = field(default=())  # `after_…` names this phase reaches (§13.3)


@dataclass(frozen=True)
class Selection:
    kind: RunKind
    from_phase: str | None = None
    only_phase: str | None = None
    skip: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlannedStep:
    phase: str
    ordinal: int  # position in the pipeline, 1-based
    action: Action
    skip_reason: Literal["checkpoint", "flag"] | None = None
    note: str = ""


def select_phases(
    phases: Sequence[Phase],
    *,
    resume: bool = False,
    from_phase: str | None = None,
    only_phase: str | None = None,
    skip: Sequence[str] = (),
) -> Selection:
    """Validate the phase flags (§4.1 step 1); names are case-insensitive. Errors are usage errors (exit 2)."""
    names = [phase.name for phase in phases]
    if only_phase and (from_phase or skip or resume):
        raise UsageError("--only-phase excludes --from-phase, --skip-phase and --resume; give only one of them")
    if from_phase and resume:
        raise UsageError("--from-phase already resumes; drop --resume")
    from_name = _phase_name(from_phase, names, "--from-phase") if from_phase else None
    only_name = _phase_name(only_phase, names, "--only-phase") if only_phase else None
    skipped = frozenset(_phase_name(name, names, "--skip-phase") for name in skip)
    optional = {phase.name for phase in phases if phase.optional}
    if not skipped <= optional:
        refused = ", ".join(sorted(skipped - optional))
        raise UsageError(f"--skip-phase {refused}: only optional phases can be skipped ({', '.join(sorted(optional))})")
    if only_name:
        return Selection("partial", only_phase=only_name)
    if from_name or resume:
        return Selection("resume", from_phase=from_name, skip=skipped)
    return Selection("full", skip=skipped)


def resume_point(phases: Sequence[Phase], validity: Mapping[str, Check]) -> str | None:
    """The first phase (never an always-runs one) without a valid checkpoint; None when every checkpoint holds."""
    for phase in phases:
        if phase.always_runs:
            continue
        check = validity.get(phase.name)
        if check is None or not check.ok:
            return phase.name
    return None


def plan_phases(phases: Sequence[Phase], selection: Selection, validity: Mapping[str, Check]) -> list[PlannedStep]:
    """The steps of a run in order (§4.2). `validity` holds the checkpoint checks a resume evaluated, in order."""
    names = [phase.name for phase in phases]
    if selection.kind == "partial":
        wanted = {"PREFLIGHT", selection.only_phase}
        return [PlannedStep(p.name, i, "run") for i, p in enumerate(phases, 1) if p.name in wanted]
    if selection.kind == "resume":
        start = selection.from_phase or resume_point(phases, validity)
        first_run = names.index(start) if start is not None else len(names)
    else:
        first_run = 0
    steps = []
    for index, phase in enumerate(phases):
        if phase.name in selection.skip:
            steps.append(PlannedStep(phase.name, index + 1, "skip", "flag", "skipped by --skip-phase"))
        elif index < first_run and not phase.always_runs:
            reason = validity[phase.name].reason if phase.name in validity else "valid checkpoint"
            steps.append(PlannedStep(phase.name, index + 1, "skip", "checkpoint", reason))
        else:
            steps.append(PlannedStep(phase.name, index + 1, "run"))
    return steps


def next_phase(plan: Sequence[PlannedStep], statuses: Mapping[str, str]) -> PlannedStep | None:
    """The first planned step still PENDING, or None when the run has nothing left to do."""
    return next((step for step in plan if statuses.get(step.phase, "PENDING") == "PENDING"), None)


def _phase_name(text: str, names: Sequence[str], flag: str) -> str:
    name = text.strip().upper()
    if name not in names:
        raise UsageError(f"{flag} {text}: unknown phase; choose one of {', '.join(names)}")
    return name
