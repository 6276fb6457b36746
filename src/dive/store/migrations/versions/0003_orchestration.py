"""Orchestration tables (orchestration §5.2): runs, states and their allowed transitions, steps, locks, errors,
circuit breakers, test-code offsets. `allowed_transitions` is filled from the constant the code uses (§5.4).

Revision ID: 0003_orchestration
Revises: 0002_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dive.orchestration.states import ALLOWED_TRANSITIONS

revision = "0003_orchestration"
down_revision = "0002_identity"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# Migrations only go forward (spec/orchestration.md §5.1: never downgrade).
def upgrade() -> None:
    op.create_table(
        "allowed_transitions",
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("from_state", "to_state", name=op.f("pk_allowed_transitions")),
    )
    op.create_table(
        "circuit_breakers",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_code", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('CLOSED', 'OPEN', 'HALF_OPEN')", name=op.f("ck_circuit_breakers_state_allowed")),
        sa.CheckConstraint("consecutive_failures >= 0", name=op.f("ck_circuit_breakers_failures_not_negative")),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_circuit_breakers_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_circuit_breakers")),
    )
    op.create_table(
        "deployment_locks",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lock_name", sa.String(length=64), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("backend", sa.String(length=12), nullable=False),
        sa.Column("lock_key", sa.BigInteger(), nullable=True),
        sa.Column("holder_host", sa.String(length=255), nullable=True),
        sa.Column("holder_pid", sa.Integer(), nullable=True),
        sa.Column("holder_start_ticks", sa.BigInteger(), nullable=True),
        sa.Column("holder_command", sa.Text(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint("backend IN ('pg-advisory', 'flock')", name=op.f("ck_deployment_locks_backend_allowed")),
        sa.CheckConstraint(
            "release_reason IS NULL OR release_reason IN ('normal', 'stale', 'forced')",
            name=op.f("ck_deployment_locks_release_reason_allowed"),
        ),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_deployment_locks_instance_code_lower3"),
        ),
        sa.CheckConstraint(
            "released_at IS NULL OR released_at >= acquired_at",
            name=op.f("ck_deployment_locks_released_after_acquired"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_locks")),
    )
    op.create_index(
        "uq_deployment_locks_held",
        "deployment_locks",
        ["lock_name"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "instance_offsets",
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("port_offset", sa.Integer(), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_instance_offsets_instance_code_lower3"),
        ),
        sa.CheckConstraint("port_offset BETWEEN 40 AND 89", name=op.f("ck_instance_offsets_test_offset_range")),
        sa.PrimaryKeyConstraint("instance_code", name=op.f("pk_instance_offsets")),
        sa.UniqueConstraint("port_offset", name=op.f("uq_instance_offsets_port_offset")),
    )
    op.create_table(
        "orchestration_errors",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("instance_code", sa.String(length=3), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=True),
        sa.Column("context", _JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "instance_code IS NULL OR (length(instance_code) = 3 AND instance_code = lower(instance_code))",
            name=op.f("ck_orchestration_errors_instance_code_lower3"),
        ),
        sa.CheckConstraint(
            "resolved_at IS NULL OR resolved_at >= created_at",
            name=op.f("ck_orchestration_errors_resolved_after_created"),
        ),
        sa.CheckConstraint("severity BETWEEN 1 AND 4", name=op.f("ck_orchestration_errors_severity_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_errors")),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("command", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("args", _JSON, nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pid_start_ticks", sa.BigInteger(), nullable=True),
        sa.Column("cli_version", sa.String(length=20), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("final_state", sa.String(length=16), nullable=True),
        sa.Column("failed_phase", sa.String(length=16), nullable=True),
        sa.Column("event_log", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('full', 'resume', 'partial', 'operation')", name=op.f("ck_pipeline_runs_kind_allowed")
        ),
        sa.CheckConstraint(
            "outcome IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED', 'CANCELLED')",
            name=op.f("ck_pipeline_runs_outcome_allowed"),
        ),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_pipeline_runs_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_pipeline_runs")),
    )
    op.create_index("ix_pipeline_runs_instance_started", "pipeline_runs", ["instance_code", sa.text("started_at DESC")])
    op.create_table(
        "state_transitions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rejection", sa.Text(), nullable=True),
        sa.Column("seconds_in_from_state", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_state_transitions_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_transitions")),
    )
    op.create_table(
        "deployment_states",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("previous_state", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "state IN ('UNKNOWN', 'INITIALIZING', 'DEPLOYING', 'CONFIGURING', 'VERIFYING', 'COMPLETE', 'FAILED', "
            "'ROLLING_BACK', 'CLEANUP')",
            name=op.f("ck_deployment_states_state_allowed"),
        ),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_deployment_states_instance_code_lower3"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_state", "state"],
            ["allowed_transitions.from_state", "allowed_transitions.to_state"],
            name="fk_deployment_states_transition_allowed_transitions",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pipeline_runs.run_id"], name=op.f("fk_deployment_states_run_id_pipeline_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_states")),
        sa.UniqueConstraint("instance_code", "seq", name=op.f("uq_deployment_states_instance_code_seq")),
    )
    op.create_table(
        "deployment_steps",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("skip_reason", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("detail", _JSON, nullable=True),
        sa.CheckConstraint(
            "phase IN ('PREFLIGHT', 'INITIALIZATION', 'DATABASE', 'SERVICES', 'IDENTITY', 'KAS', 'SEEDING', "
            "'VERIFICATION', 'DEPLOYMENT', 'CONFIGURATION', 'FEDERATION', 'ROLLBACK')",
            name=op.f("ck_deployment_steps_phase_allowed"),
        ),
        sa.CheckConstraint(
            "skip_reason IS NULL OR skip_reason IN ('checkpoint', 'flag', 'not_applicable')",
            name=op.f("ck_deployment_steps_skip_reason_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'SKIPPED')",
            name=op.f("ck_deployment_steps_status_allowed"),
        ),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_deployment_steps_instance_code_lower3"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pipeline_runs.run_id"], name=op.f("fk_deployment_steps_run_id_pipeline_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_steps")),
        sa.UniqueConstraint("run_id", "phase", name=op.f("uq_deployment_steps_run_id_phase")),
    )

    op.create_index(
        "ix_deployment_steps_instance_phase_id", "deployment_steps", ["instance_code", "phase", sa.text("id DESC")]
    )
    _fill_allowed_transitions()


def _fill_allowed_transitions() -> None:
    table = sa.table("allowed_transitions", sa.column("from_state", sa.String), sa.column("to_state", sa.String))
    rows = [
        {"from_state": source, "to_state": target}
        for source, targets in sorted(ALLOWED_TRANSITIONS.items())
        for target in sorted(targets)
    ]
    op.bulk_insert(table, rows)
