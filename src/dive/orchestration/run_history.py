"""`hub|spoke history` and `hub|spoke phases` (spec/orchestration.md §2.2; `dive.history/1`, `dive.phases/1` of
§11.2). Runs and steps are read from the orchestration DB, never from the event files (§4.6); a checkpoint is shown
valid only when its phase's live check passes now (§4.2), and the resume point is the one a `--resume` would take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dive.orchestration.errors import OrchestrationError
from dive.orchestration.events import iso_z
from dive.orchestration.phases import Check, Phase, resume_point
from dive.orchestration.pipeline import PhaseContext
from dive.orchestration.run_records import Checkpoint
from dive.store import writer_session_factory
from dive.store.models.orchestration import DeploymentStep, PipelineRun

__all__ = [
    "TIMING_RUNS",
    "PhaseRow",
    "RunSummary",
    "StepRecord",
    "history_document",
    "inspect_phases",
    "phase_rows",
    "phases_document",
    "recent_runs",
    "resume_point_of",
    "started_steps",
]

TIMING_RUNS: Final = 5  # `phases --timing`: durations of the last 5 runs of each phase
_EXECUTED: Final = ("COMPLETED", "FAILED")


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    command: str
    kind: str
    started_at: dt.datetime
    duration_s: float | None  # None while the run is RUNNING
    outcome: str
    final_state: str | None
    failed_phase: str | None

    def as_json(self) -> dict[str, object]:
        return {**vars(self), "started_at": iso_z(self.started_at)}


@dataclass(frozen=True)
class StepRecord:
    """A started step of one phase (PENDING steps never ran and are left out)."""

    run_id: str
    status: str
    skip_reason: str | None
    duration_s: float | None


@dataclass(frozen=True)
class PhaseRow:
    phase: str
    fatal: bool
    optional: bool
    last_status: str | None
    last_run_id: str | None
    duration_s: float | None
    checkpoint_valid: bool | None  # None for PREFLIGHT and VERIFICATION: they always run
    reason: str
    timing: tuple[float | None, ...]


def recent_runs(session: Session, code: str, limit: int) -> list[RunSummary]:
    """The newest `limit` runs of `code`, newest first."""
    query = (
        select(PipelineRun)
        .where(PipelineRun.instance_code == code)
        .order_by(PipelineRun.started_at.desc(), PipelineRun.run_id.desc())
        .limit(limit)
    )
    return [
        RunSummary(
            run_id=run.run_id,
            command=run.command,
            kind=run.kind,
            started_at=run.started_at,
            duration_s=round((run.finished_at - run.started_at).total_seconds(), 3) if run.finished_at else None,
            outcome=run.outcome,
            final_state=run.final_state,
            failed_phase=run.failed_phase,
        )
        for run in session.scalars(query)
    ]


def started_steps(session: Session, code: str) -> dict[str, list[StepRecord]]:
    """Per phase, the started steps of `code`, newest first."""
    query = (
        select(DeploymentStep)
        .where(DeploymentStep.instance_code == code, DeploymentStep.status != "PENDING")
        .order_by(DeploymentStep.id.desc())
    )
    steps: dict[str, list[StepRecord]] = {}
    for row in session.scalars(query):
        steps.setdefault(row.phase, []).append(StepRecord(row.run_id, row.status, row.skip_reason, row.duration_s))
    return steps


def phase_rows(
    phases: Sequence[Phase], steps: Mapping[str, Sequence[StepRecord]], live: Mapping[str, Check]
) -> list[PhaseRow]:
    """One row per phase. `live` holds the live check of each phase whose newest step is a valid checkpoint record."""
    rows = []
    for phase in phases:
        history = steps.get(phase.name, ())
        last = history[0] if history else None
        valid, reason = _validity(phase, last, live.get(phase.name))
        executed = [step.duration_s for step in history if step.status in _EXECUTED][:TIMING_RUNS]
        rows.append(
            PhaseRow(
                phase=phase.name,
                fatal=phase.fatal,
                optional=phase.optional,
                last_status=last.status if last else None,
                last_run_id=last.run_id if last else None,
                duration_s=last.duration_s if last else None,
                checkpoint_valid=valid,
                reason=reason,
                timing=tuple(executed),
            )
        )
    return rows


def _validity(phase: Phase, last: StepRecord | None, live: Check | None) -> tuple[bool | None, str]:
    if phase.always_runs:
        return None, "always runs"
    if last is None:
        return False, "no checkpoint"
    if not Checkpoint(last.run_id, last.status, last.skip_reason).is_valid_record:
        return False, f"last step {last.status}"
    if live is None:
        return False, "not checked"
    return (True, f"valid checkpoint (run {last.run_id})") if live.ok else (False, live.reason)


def resume_point_of(phases: Sequence[Phase], rows: Sequence[PhaseRow]) -> str | None:
    """Where `--resume` would start (§4.2): the first phase without a valid checkpoint."""
    validity = {row.phase: Check(bool(row.checkpoint_valid), row.reason) for row in rows}
    return resume_point(phases, validity)


def inspect_phases(
    phases: Sequence[Phase], engine: Engine | None, *, home: Path, code: str, environ: Mapping[str, str], pipeline: str
) -> list[PhaseRow]:
    """Read the steps (no DB: nothing recorded) and run the live check of every phase holding a checkpoint record."""
    steps: dict[str, list[StepRecord]] = {}
    if engine is not None:
        with writer_session_factory(engine)() as session:
            steps = started_steps(session, code)
    context = PhaseContext(
        home=home,
        code=code,
        run_id=None,
        environ=environ,
        pipeline=pipeline,
        emit=lambda *_args, **_fields: None,
        cancelled=lambda: False,
    )
    live = {}
    for phase in phases:
        history = steps.get(phase.name)
        if phase.always_runs or not history:
            continue
        if Checkpoint(history[0].run_id, history[0].status, history[0].skip_reason).is_valid_record:
            live[phase.name] = _live_check(phase, context)
    return phase_rows(phases, steps, live)


def _live_check(phase: Phase, context: PhaseContext) -> Check:
    context.phase = phase
    try:
        return phase.is_complete(context)
    except OrchestrationError as exc:  # a probe that cannot answer proves nothing: the checkpoint is not valid
        return Check(False, exc.message)


def history_document(code: str, runs: Sequence[RunSummary]) -> dict[str, object]:
    return {"schema": "dive.history/1", "instance": code.upper(), "runs": [run.as_json() for run in runs]}


def phases_document(code: str, phases: Sequence[Phase], rows: Sequence[PhaseRow], *, timing: bool) -> dict[str, object]:
    return {
        "schema": "dive.phases/1",
        "instance": code.upper(),
        "resume_point": resume_point_of(phases, rows),
        "phases": [
            {
                "phase": row.phase,
                "fatal": row.fatal,
                "optional": row.optional,
                "last_status": row.last_status,
                "last_run_id": row.last_run_id,
                "duration_s": row.duration_s,
                "checkpoint_valid": row.checkpoint_valid,
                "reason": row.reason,
                "timing_s": list(row.timing) if timing else None,
            }
            for row in rows
        ],
    }
