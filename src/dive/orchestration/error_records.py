"""Persisted failures (spec/orchestration.md §7.2): every failure becomes a row of `orchestration_errors`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from dive.store.models.base import utc_now
from dive.store.models.orchestration import ErrorRecord

__all__ = ["CRITICAL", "HIGH", "LOW", "MEDIUM", "record_error", "resolve_errors"]

CRITICAL: Final = 1  # a fatal phase failed, the run aborted
HIGH: Final = 2  # run interrupted or cancelled, stale lock cleaned, rollback executed, breaker opened
MEDIUM: Final = 3  # non-fatal phase failed, transition rejected, registration pending
LOW: Final = 4  # informational


def record_error(
    session: Session,
    error_code: str,
    severity: int,
    message: str,
    *,
    instance_code: str | None,
    run_id: str | None = None,
    phase: str | None = None,
    component: str = "orchestration",
    remediation: str | None = None,
    context: Mapping[str, object] | None = None,
) -> ErrorRecord:
    """Add the error to the session's transaction (the caller commits, together with what the error is about)."""
    record = ErrorRecord(
        run_id=run_id,
        instance_code=instance_code,
        phase=phase,
        error_code=error_code.upper(),
        severity=severity,
        component=component,
        message=message,
        remediation=remediation,
        context=dict(context) if context is not None else None,
    )
    session.add(record)
    return record


def resolve_errors(session: Session, instance_code: str, *, run_id: str) -> int:
    """Run `run_id` reached COMPLETE: the instance's open errors of earlier runs are resolved by it (§4.1 step 10).

    The run's own open errors (a failed non-fatal phase) stay open. Returns the count resolved.
    """
    result = session.execute(
        update(ErrorRecord)
        .where(
            ErrorRecord.instance_code == instance_code,
            ErrorRecord.resolved.is_(False),
            or_(ErrorRecord.run_id.is_(None), ErrorRecord.run_id != run_id),
        )
        .values(resolved=True, resolved_at=utc_now(), resolved_by=run_id)
    )
    return int(result.rowcount or 0)
