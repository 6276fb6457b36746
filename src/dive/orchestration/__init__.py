"""The orchestrator (spec/orchestration.md): state machine, locks, pipeline runner, local runtime."""

from __future__ import annotations

from dive.orchestration.database import open_orchestration_db, orchestration_url
from dive.orchestration.errors import (
    BreakerOpenError,
    InvalidTransitionError,
    LockHeldError,
    OrchestrationError,
    PhaseError,
    PreconditionError,
    RunCancelledError,
    ServiceHealthTimeoutError,
    ServiceStartError,
    SupervisorError,
    UsageError,
)
from dive.orchestration.locks import DeployLock, LockHolder, acquire_deploy_lock, read_holder
from dive.orchestration.phases import Check, Phase, PlannedStep, Selection, next_phase, plan_phases, select_phases
from dive.orchestration.pipeline import DryRunReport, PhaseContext, Pipeline, RunRequest, RunResult, dry_run
from dive.orchestration.recovery import recover_instance
from dive.orchestration.runtime import ProcessRow, Supervisor, available_services, service_programs
from dive.orchestration.states import ALLOWED_TRANSITIONS, STATES, CurrentState, current_state, transition

__all__ = [
    "ALLOWED_TRANSITIONS",
    "STATES",
    "BreakerOpenError",
    "Check",
    "CurrentState",
    "DeployLock",
    "DryRunReport",
    "InvalidTransitionError",
    "LockHeldError",
    "LockHolder",
    "OrchestrationError",
    "Phase",
    "PhaseContext",
    "PhaseError",
    "Pipeline",
    "PlannedStep",
    "PreconditionError",
    "ProcessRow",
    "RunCancelledError",
    "RunRequest",
    "RunResult",
    "Selection",
    "ServiceHealthTimeoutError",
    "ServiceStartError",
    "Supervisor",
    "SupervisorError",
    "UsageError",
    "acquire_deploy_lock",
    "available_services",
    "current_state",
    "dry_run",
    "next_phase",
    "open_orchestration_db",
    "orchestration_url",
    "plan_phases",
    "read_holder",
    "recover_instance",
    "select_phases",
    "service_programs",
    "transition",
]
