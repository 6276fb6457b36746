"""Crash recovery (spec/orchestration.md §7.5), run right after taking `deploy:<c>`: whatever is still RUNNING or in
an active state for that instance belongs to a process that died, because the guard could be taken."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.error_records import HIGH, record_error
from dive.orchestration.run_records import update_step
from dive.orchestration.states import ACTIVE_STATES, current_state, transition
from dive.store.models.orchestration import DeploymentLock, DeploymentStep, PipelineRun

__all__ = ["Recovery", "recover_instance"]


@dataclass(frozen=True)
class Recovery:
    interrupted_runs: tuple[str, ...]
    state_failed: bool

    @property
    def recovered_anything(self) -> bool:
        return bool(self.interrupted_runs) or self.state_failed


def recover_instance(sessions: sessionmaker[Session], code: str, *, run_id: str | None) -> Recovery:
    """Close dead runs (INTERRUPTED, steps FAILED, RUN_INTERRUPTED) and move an active state to FAILED."""
    with sessions() as session:
        dead = session.scalars(
            select(PipelineRun).where(PipelineRun.instance_code == code, PipelineRun.outcome == "RUNNING")
        ).all()
        phases = {run.run_id: _interrupt(session, run) for run in dead}
        session.commit()
        state = current_state(session, code)
        if state.state not in ACTIVE_STATES:
            return Recovery(tuple(phases), False)
        dead_run = state.run_id or (dead[-1].run_id if dead else "unknown")
        phase = phases.get(dead_run) or "an unknown phase"
        transition(session, code, "FAILED", run_id=run_id, reason=f"run {dead_run} interrupted during {phase}")
        return Recovery(tuple(phases), True)


def _interrupt(session: Session, run: PipelineRun) -> str | None:
    """Mark one dead run INTERRUPTED; returns the phase it was in."""
    last_beat = session.scalar(select(func.max(DeploymentLock.heartbeat_at)).where(DeploymentLock.run_id == run.run_id))
    running = session.scalars(
        select(DeploymentStep.phase).where(DeploymentStep.run_id == run.run_id, DeploymentStep.status == "IN_PROGRESS")
    ).all()
    for phase in running:
        update_step(
            session,
            run.run_id,
            phase,
            status="FAILED",
            error_code="RUN_INTERRUPTED",
            error_message="interrupted: process died",
        )
    run.outcome, run.finished_at = "INTERRUPTED", max(last_beat or run.started_at, run.started_at)
    run.failed_phase = running[0] if running else None
    record_error(
        session,
        "RUN_INTERRUPTED",
        HIGH,
        f"run {run.run_id} ({run.command}, pid {run.pid}) died"
        + (f" during {running[0]}" if running else " between phases"),
        instance_code=run.instance_code,
        run_id=run.run_id,
        phase=run.failed_phase,
        remediation=f"resume it: dive {run.command} --resume",
    )
    return run.failed_phase
