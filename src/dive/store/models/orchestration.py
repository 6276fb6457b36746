"""Orchestration tables (spec/orchestration.md §5.2): runs, the deployment state machine, steps, locks, errors,
circuit breakers and test-code port offsets. They live in the orchestration database only.

The column vocabularies are declared here, once; `dive.orchestration.states` adds the transition table that
migration 0003 copies into `allowed_transitions`, where a foreign key of `deployment_states` enforces it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import BIG_ID, JSON_DOCUMENT, Base, UtcDateTime, lower_code_check, one_of_check, utc_now

__all__ = [
    "BREAKER_STATES",
    "LOCK_BACKENDS",
    "LOCK_RELEASE_REASONS",
    "PHASES",
    "RUN_KINDS",
    "RUN_OUTCOMES",
    "SKIP_REASONS",
    "STATES",
    "STEP_STATUSES",
    "AllowedTransition",
    "CircuitBreaker",
    "DeploymentLock",
    "DeploymentState",
    "DeploymentStep",
    "ErrorRecord",
    "InstanceOffset",
    "PipelineRun",
    "StateTransition",
]

STATES: Final = (
    "UNKNOWN",
    "INITIALIZING",
    "DEPLOYING",
    "CONFIGURING",
    "VERIFYING",
    "COMPLETE",
    "FAILED",
    "ROLLING_BACK",
    "CLEANUP",
)
PHASES: Final = (
    "PREFLIGHT",
    "INITIALIZATION",
    "DATABASE",
    "SERVICES",
    "IDENTITY",
    "KAS",
    "SEEDING",
    "VERIFICATION",
    "DEPLOYMENT",
    "CONFIGURATION",
    "FEDERATION",
    "ROLLBACK",
)
RUN_KINDS: Final = ("full", "resume", "partial", "operation")
RUN_OUTCOMES: Final = ("RUNNING", "SUCCEEDED", "FAILED", "INTERRUPTED", "CANCELLED")
STEP_STATUSES: Final = ("PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "SKIPPED")
SKIP_REASONS: Final = ("checkpoint", "flag", "not_applicable")
LOCK_BACKENDS: Final = ("pg-advisory", "flock")
LOCK_RELEASE_REASONS: Final = ("normal", "stale", "forced")
BREAKER_STATES: Final = ("CLOSED", "OPEN", "HALF_OPEN")


class PipelineRun(Base):
    """One invocation that held an instance lock (§0 "run"); `outcome` stays RUNNING until it is closed."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("kind", RUN_KINDS),
        one_of_check("outcome", RUN_OUTCOMES),
        Index("ix_pipeline_runs_instance_started", "instance_code", text("started_at DESC")),
    )

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_code: Mapped[str] = mapped_column(String(3))
    command: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    args: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    pid_start_ticks: Mapped[int | None] = mapped_column(BigInteger)
    cli_version: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(12), default="RUNNING")
    final_state: Mapped[str | None] = mapped_column(String(16))
    failed_phase: Mapped[str | None] = mapped_column(String(16))
    event_log: Mapped[str | None] = mapped_column(Text)


class AllowedTransition(Base):
    """The state machine of §5.4, one row per allowed (from, to); written by migration 0003 only."""

    __tablename__ = "allowed_transitions"

    from_state: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_state: Mapped[str] = mapped_column(String(16), primary_key=True)


class DeploymentState(Base):
    """Append-only state history: the current state of an instance is its row with the highest `seq`."""

    __tablename__ = "deployment_states"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("state", STATES),
        UniqueConstraint("instance_code", "seq"),
        ForeignKeyConstraint(
            ["previous_state", "state"],
            ["allowed_transitions.from_state", "allowed_transitions.to_state"],
            name="fk_deployment_states_transition_allowed_transitions",
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    instance_code: Mapped[str] = mapped_column(String(3))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    previous_state: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("pipeline_runs.run_id"))
    reason: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON_DOCUMENT, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    created_by: Mapped[str | None] = mapped_column(String(100))


class StateTransition(Base):
    """Audit of every transition attempt, rejected ones included."""

    __tablename__ = "state_transitions"
    __table_args__ = (lower_code_check("instance_code"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    instance_code: Mapped[str] = mapped_column(String(3))
    run_id: Mapped[str | None] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    rejection: Mapped[str | None] = mapped_column(Text)
    seconds_in_from_state: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class DeploymentStep(Base):
    """One phase of one run; a checkpoint is the newest non-PENDING step of (instance, phase) (§4.2)."""

    __tablename__ = "deployment_steps"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("phase", PHASES),
        one_of_check("status", STEP_STATUSES),
        one_of_check("skip_reason", SKIP_REASONS, nullable=True),
        UniqueConstraint("run_id", "phase"),
        Index("ix_deployment_steps_instance_phase_id", "instance_code", "phase", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.run_id"))
    instance_code: Mapped[str] = mapped_column(String(3))
    phase: Mapped[str] = mapped_column(String(16))
    ordinal: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="PENDING")
    skip_reason: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)


class DeploymentLock(Base):
    """Audit record of a `deploy:<c>` guard (§6.2); the guard itself is a flock or an advisory lock."""

    __tablename__ = "deployment_locks"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("backend", LOCK_BACKENDS),
        one_of_check("release_reason", LOCK_RELEASE_REASONS, nullable=True),
        CheckConstraint("released_at IS NULL OR released_at >= acquired_at", name="released_after_acquired"),
        # At most one unreleased row per lock name.
        Index(
            "uq_deployment_locks_held",
            "lock_name",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    lock_name: Mapped[str] = mapped_column(String(64))
    instance_code: Mapped[str] = mapped_column(String(3))
    run_id: Mapped[str | None] = mapped_column(String(32))
    backend: Mapped[str] = mapped_column(String(12))
    lock_key: Mapped[int | None] = mapped_column(BigInteger)
    holder_host: Mapped[str | None] = mapped_column(String(255))
    holder_pid: Mapped[int | None] = mapped_column(Integer)
    holder_start_ticks: Mapped[int | None] = mapped_column(BigInteger)
    holder_command: Mapped[str | None] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    release_reason: Mapped[str | None] = mapped_column(String(20))


class ErrorRecord(Base):
    """A persisted failure (§7.2): severity 1 critical … 4 low; a later COMPLETE resolves an instance's errors."""

    __tablename__ = "orchestration_errors"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        CheckConstraint("resolved_at IS NULL OR resolved_at >= created_at", name="resolved_after_created"),
        CheckConstraint(
            "instance_code IS NULL OR (length(instance_code) = 3 AND instance_code = lower(instance_code))",
            name="instance_code_lower3",
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(32))
    instance_code: Mapped[str | None] = mapped_column(String(3))
    phase: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[int] = mapped_column(Integer)
    component: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    remediation: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class CircuitBreaker(Base):
    """Per-instance, per-phase breaker `<c>/<PHASE>` (§7.3)."""

    __tablename__ = "circuit_breakers"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("state", BREAKER_STATES),
        CheckConstraint("consecutive_failures >= 0", name="failures_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_code: Mapped[str] = mapped_column(String(3))
    phase: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10), default="CLOSED")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class InstanceOffset(Base):
    """The port offset of a test code (§1.2); CONSISTENCY #24: 40–89, no exceptions."""

    __tablename__ = "instance_offsets"
    __table_args__ = (
        lower_code_check("instance_code"),
        CheckConstraint("port_offset BETWEEN 40 AND 89", name="test_offset_range"),
    )

    instance_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    port_offset: Mapped[int] = mapped_column(Integer, unique=True)
    allocated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
