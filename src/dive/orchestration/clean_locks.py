"""`dive spoke clean-locks [CODE] [--force]` (spec/orchestration.md §6.4).

A recorded lock is stale exactly when its guard can be taken (§6.3): then the holder is gone, its row is closed
`stale` and the instance goes through crash recovery. A guard that cannot be taken belongs to a live process and is
left alone unless `--force` terminates that process first.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, select, text, update

from dive.orchestration.errors import LockHeldError
from dive.orchestration.locks import DeployLock, LockHolder, acquire_deploy_lock, deploy_lock_name, read_holder
from dive.orchestration.recovery import recover_instance
from dive.orchestration.states import ACTIVE_STATES, current_state, transition
from dive.store.engine import writer_session_factory
from dive.store.models.base import utc_now
from dive.store.models.orchestration import DeploymentLock

__all__ = [
    "CLEAN_LOCKS_SCHEMA",
    "LockCleaning",
    "clean_locks",
    "clean_locks_document",
    "recorded_lock_codes",
    "terminate_holder",
]

CLEAN_LOCKS_SCHEMA: Final = "dive.clean-locks/1"
TERMINATE_GRACE_S: Final = 10.0  # §6.4: SIGTERM, wait 10 s, then SIGKILL
RELEASE_WAIT_S: Final = 5.0  # how long a terminated holder's guard may take to be released
_EXIT_POLL_S: Final = 0.2
_COMMAND: Final = "spoke clean-locks"


@dataclass(frozen=True, kw_only=True)
class LockCleaning:
    """What clean-locks did with one lock: `cleaned`, `forced` (holder terminated, then cleaned) or `held`."""

    code: str
    result: str
    holder: LockHolder | None
    interrupted_runs: tuple[str, ...] = field(default=())

    @property
    def lock(self) -> str:
        return deploy_lock_name(self.code)

    @property
    def is_held(self) -> bool:
        return self.result == "held"

    def sentence(self) -> str:
        pid = self.holder.pid if self.holder else "unknown"
        if self.result == "held":
            assert self.holder is not None
            return f"{self.lock}: held by live pid {pid} on {self.holder.host} (run {self.holder.run_id}) — not touched"
        runs = f"; run {', '.join(self.interrupted_runs)} marked INTERRUPTED" if self.interrupted_runs else ""
        how = f"holder pid {pid} terminated, " if self.result == "forced" else f"holder pid {pid} gone, "
        return f"{self.lock}: {how}cleaned{runs}"


def recorded_lock_codes(engine: Engine, code: str | None = None) -> list[str]:
    """The instances with an unreleased `deploy:*` row, or only `code`'s."""
    query = select(DeploymentLock.instance_code).where(DeploymentLock.released_at.is_(None))
    if code is not None:
        query = query.where(DeploymentLock.instance_code == code)
    with writer_session_factory(engine)() as session:
        return sorted(set(session.scalars(query)))


def clean_locks(engine: Engine, home: Path, code: str | None = None, *, force: bool = False) -> list[LockCleaning]:
    """§6.4 for every recorded lock (or `code`'s): clean the stale ones, report the live ones (terminate with force)."""
    return [_clean(engine, home, each, force=force) for each in recorded_lock_codes(engine, code)]


def _clean(engine: Engine, home: Path, code: str, *, force: bool) -> LockCleaning:
    holder = read_holder(engine, home, code)
    lock = _try_guard(engine, home, code)
    result = "cleaned"
    if lock is None and force and holder is not None:
        terminate_holder(engine, holder, deploy_lock_name(code))
        if not holder.is_alive():
            _close_forced(engine, code, holder)
        # PostgreSQL ends the dead holder's session (and its advisory lock) a moment after the process exits.
        lock, result = _try_guard(engine, home, code, wait_s=RELEASE_WAIT_S), "forced"
    if lock is None:
        return LockCleaning(code=code, result="held", holder=holder)
    with lock:
        _fail_active_state(engine, code, holder)
        recovery = recover_instance(writer_session_factory(engine), code, run_id=None)
    return LockCleaning(code=code, result=result, holder=holder, interrupted_runs=recovery.interrupted_runs)


def _try_guard(engine: Engine, home: Path, code: str, *, wait_s: float = 0.0) -> DeployLock | None:
    """Taking the lock closes the holder's row `stale` with LOCK_STALE_CLEANED (§6.2); a live holder keeps it."""
    try:
        return acquire_deploy_lock(engine, home, code, run_id=None, command=_COMMAND, wait_s=wait_s)
    except LockHeldError:
        return None


def _fail_active_state(engine: Engine, code: str, holder: LockHolder | None) -> None:
    """State → FAILED "interrupted; holder pid N gone" (§6.4), before recovery would give its generic reason."""
    with writer_session_factory(engine)() as session:
        if current_state(session, code).state in ACTIVE_STATES:
            pid = holder.pid if holder else "unknown"
            transition(session, code, "FAILED", run_id=None, reason=f"interrupted; holder pid {pid} gone")


def terminate_holder(engine: Engine, holder: LockHolder, lock_name: str) -> None:
    """Same host: SIGTERM, up to 10 s, then SIGKILL. Other host (PostgreSQL): end the guard's session."""
    if holder.host == socket.gethostname():
        if holder.pid is not None and holder.is_alive():
            _signal_and_wait(holder, signal.SIGTERM, TERMINATE_GRACE_S)
        if holder.pid is not None and holder.is_alive():
            _signal_and_wait(holder, signal.SIGKILL, TERMINATE_GRACE_S)
    elif engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": f"dive-lock:{lock_name}"[:63]},
            )


def _signal_and_wait(holder: LockHolder, number: signal.Signals, wait_s: float) -> None:
    assert holder.pid is not None
    try:
        os.kill(holder.pid, number)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while holder.is_alive() and time.monotonic() < deadline:
        time.sleep(_EXIT_POLL_S)


def _close_forced(engine: Engine, code: str, holder: LockHolder) -> None:
    """The terminated holder's row, if it could not close it itself, is closed `forced` rather than `stale`."""
    with writer_session_factory(engine).begin() as session:
        session.execute(
            update(DeploymentLock)
            .where(
                DeploymentLock.lock_name == deploy_lock_name(code),
                DeploymentLock.released_at.is_(None),
                DeploymentLock.holder_pid == holder.pid,
            )
            .values(released_at=utc_now(), release_reason="forced")
        )


def clean_locks_document(cleanings: list[LockCleaning]) -> dict[str, object]:
    """`dive.clean-locks/1`: one entry per recorded lock and how many remain held."""
    return {
        "schema": CLEAN_LOCKS_SCHEMA,
        "locks": [
            {
                "code": cleaning.code.upper(),
                "lock": cleaning.lock,
                "result": cleaning.result,
                "holder": cleaning.holder.as_detail() if cleaning.holder else None,
                "interrupted_runs": list(cleaning.interrupted_runs),
            }
            for cleaning in cleanings
        ],
        "remaining": sum(1 for cleaning in cleanings if cleaning.is_held),
    }
