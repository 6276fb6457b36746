"""Rows of a run (spec/orchestration.md §4.1, §5.2): `pipeline_runs`, `deployment_steps`, and checkpoints read back."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dive.orchestration.liveness import current_process_start_ticks
from dive.orchestration.phases import PlannedStep, RunKind
from dive.store.models.base import utc_now
from dive.store.models.orchestration import DeploymentStep, PipelineRun

__all__ = ["Checkpoint", "close_run", "insert_run", "latest_checkpoints", "update_step"]


@dataclass(frozen=True)
class Checkpoint:
    """The newest non-PENDING step of (instance, phase) (§4.2)."""

    run_id: str
    status: str
    skip_reason: str | None

    @property
    def is_valid_record(self) -> bool:
        """COMPLETED, or SKIPPED on a checkpoint or by flag; the live check still has to confirm it."""
        return self.status == "COMPLETED" or (self.status == "SKIPPED" and self.skip_reason in ("checkpoint", "flag"))


def insert_run(
    session: Session,
    *,
    run_id: str,
    code: str,
    command: str,
    kind: RunKind,
    args: Mapping[str, object],
    plan: Sequence[PlannedStep],
    event_log: str,
) -> None:
    """The run row (outcome RUNNING) and one PENDING step per selected phase, in one transaction (§4.1 step 6)."""
    session.add(
        PipelineRun(
            run_id=run_id,
            instance_code=code,
            command=command[:40],
            kind=kind,
            args=dict(args),
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            pid_start_ticks=current_process_start_ticks(),
            cli_version=_cli_version(),
            started_at=utc_now(),
            outcome="RUNNING",
            event_log=event_log,
        )
    )
    session.flush()
    session.add_all(
        DeploymentStep(run_id=run_id, instance_code=code, phase=step.phase, ordinal=step.ordinal, status="PENDING")
        for step in plan
    )
    session.commit()


def update_step(session: Session, run_id: str, phase: str, **values: object) -> None:
    session.execute(
        update(DeploymentStep).where(DeploymentStep.run_id == run_id, DeploymentStep.phase == phase).values(**values)
    )


def close_run(session: Session, run_id: str, *, outcome: str, final_state: str, failed_phase: str | None) -> float:
    """Close the run row; returns its duration in seconds."""
    run = session.get_one(PipelineRun, run_id)
    run.finished_at, run.outcome, run.final_state, run.failed_phase = utc_now(), outcome, final_state, failed_phase
    return (run.finished_at - run.started_at).total_seconds()


def latest_checkpoints(session: Session, code: str) -> dict[str, Checkpoint]:
    """Per phase, the newest step of `code` that is not PENDING (PENDING rows never started and prove nothing)."""
    rows = session.execute(
        select(DeploymentStep.phase, DeploymentStep.run_id, DeploymentStep.status, DeploymentStep.skip_reason)
        .where(DeploymentStep.instance_code == code, DeploymentStep.status != "PENDING")
        .order_by(DeploymentStep.id.desc())
    )
    checkpoints: dict[str, Checkpoint] = {}
    for phase, run_id, status, skip_reason in rows:
        checkpoints.setdefault(phase, Checkpoint(run_id, status, skip_reason))
    return checkpoints


def _cli_version() -> str:
    try:
        return version("dive")[:20]
    except PackageNotFoundError:
        return "unknown"
