"""The deployment state machine (spec/orchestration.md §5.4): one transition table, in code and, copied by migration
0003, in `allowed_transitions`, where a foreign key of `deployment_states` enforces the same rule."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dive.orchestration.error_records import MEDIUM, record_error
from dive.orchestration.errors import InvalidTransitionError
from dive.store.models.base import utc_now
from dive.store.models.orchestration import STATES, DeploymentState, StateTransition

__all__ = [
    "ACTIVE_STATES",
    "ALLOWED_TRANSITIONS",
    "STABLE_STATES",
    "STATES",
    "CurrentState",
    "current_state",
    "is_allowed",
    "transition",
]

STABLE_STATES: Final = frozenset({"UNKNOWN", "COMPLETE", "FAILED"})
ACTIVE_STATES: Final = frozenset(STATES) - STABLE_STATES  # valid only while a lock is held

# §5.4. FAILED is reachable from every state, so it is listed in every row the foreign key checks.
ALLOWED_TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "UNKNOWN": frozenset({"INITIALIZING", "CLEANUP", "FAILED"}),
    "INITIALIZING": frozenset({"DEPLOYING", "CONFIGURING", "VERIFYING", "ROLLING_BACK", "FAILED"}),
    "DEPLOYING": frozenset({"CONFIGURING", "ROLLING_BACK", "FAILED"}),
    "CONFIGURING": frozenset({"VERIFYING", "ROLLING_BACK", "FAILED"}),
    "VERIFYING": frozenset({"COMPLETE", "FAILED"}),
    "COMPLETE": frozenset({"INITIALIZING", "ROLLING_BACK", "CLEANUP", "FAILED"}),
    "FAILED": frozenset({"INITIALIZING", "ROLLING_BACK", "CLEANUP"}),
    "ROLLING_BACK": frozenset({"FAILED", "CLEANUP"}),
    "CLEANUP": frozenset({"UNKNOWN", "INITIALIZING", "FAILED"}),
}


@dataclass(frozen=True)
class CurrentState:
    state: str
    seq: int  # 0 when the instance has no state row (UNKNOWN)
    since: datetime | None
    run_id: str | None


def is_allowed(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED_TRANSITIONS.get(from_state, frozenset())


def current_state(session: Session, code: str) -> CurrentState:
    """The row with the highest `seq`; no row means UNKNOWN."""
    row = session.scalars(
        select(DeploymentState)
        .where(DeploymentState.instance_code == code)
        .order_by(DeploymentState.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return CurrentState("UNKNOWN", 0, None, None)
    return CurrentState(row.state, row.seq, row.created_at, row.run_id)


def transition(
    session: Session,
    code: str,
    to_state: str,
    *,
    run_id: str | None,
    reason: str,
    metadata: Mapping[str, object] | None = None,
) -> CurrentState:
    """Validate, then record the transition of `code` to `to_state` and commit: one transition, one transaction.

    The same state is a no-op. A rejected transition is recorded in `state_transitions` and `orchestration_errors`
    before `InvalidTransitionError` is raised. A concurrent writer's row (UNIQUE (instance_code, seq)) makes this
    re-read and re-validate once.
    """
    try:
        return _transition_once(session, code, to_state, run_id=run_id, reason=reason, metadata=metadata)
    except IntegrityError:
        session.rollback()
        return _transition_once(session, code, to_state, run_id=run_id, reason=reason, metadata=metadata)


def _transition_once(
    session: Session,
    code: str,
    to_state: str,
    *,
    run_id: str | None,
    reason: str,
    metadata: Mapping[str, object] | None,
) -> CurrentState:
    current = current_state(session, code)
    if to_state == current.state:
        session.commit()
        return current
    now = utc_now()
    if not is_allowed(current.state, to_state):
        _record_rejection(session, code, current.state, to_state, run_id=run_id, reason=reason)
        raise InvalidTransitionError(
            f"{code.upper()} cannot go from {current.state} to {to_state}: not allowed by the state machine (§5.4)",
            {"instance": code, "from": current.state, "to": to_state, "run_id": run_id},
            remediation="this is a bug in the orchestrator; report it with the run's event log",
        )
    session.add(
        DeploymentState(
            instance_code=code,
            seq=current.seq + 1,
            state=to_state,
            previous_state=current.state,
            run_id=run_id,
            reason=reason,
            metadata_=dict(metadata or {}),
            created_at=now,
            created_by=_invoker(),
        )
    )
    session.add(
        StateTransition(
            instance_code=code,
            run_id=run_id,
            from_state=current.state,
            to_state=to_state,
            accepted=True,
            reason=reason,
            seconds_in_from_state=(now - current.since).total_seconds() if current.since else None,
            created_at=now,
        )
    )
    session.commit()
    return CurrentState(to_state, current.seq + 1, now, run_id)


def _record_rejection(
    session: Session, code: str, from_state: str, to_state: str, *, run_id: str | None, reason: str
) -> None:
    rejection = f"not allowed: {from_state} → {to_state}"
    session.add(
        StateTransition(
            instance_code=code,
            run_id=run_id,
            from_state=from_state,
            to_state=to_state,
            accepted=False,
            reason=reason,
            rejection=rejection,
        )
    )
    record_error(
        session,
        "STATE_TRANSITION_REJECTED",
        MEDIUM,
        f"{code.upper()}: {rejection} ({reason})",
        instance_code=code,
        run_id=run_id,
        remediation="a bug in the orchestrator: report it with the run's event log",
    )
    session.commit()


def _invoker() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:100]
