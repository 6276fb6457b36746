"""The per-instance deploy lock `deploy:<c>` (spec/orchestration.md §6).

The guard is the real exclusion and dies with its process: `flock` on `DIVE_HOME/locks/deploy-<c>.lock` for the
embedded store, or `pg_try_advisory_lock` on a dedicated connection held for the whole run on PostgreSQL. The row
in `deployment_locks` is only the record (audit and display). A lock is stale exactly when its guard can be taken.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Protocol

import psycopg
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from dive.orchestration.error_records import HIGH, record_error
from dive.orchestration.errors import LockHeldError
from dive.orchestration.liveness import current_process_start_ticks, is_process_alive
from dive.store.engine import writer_session_factory
from dive.store.models.base import utc_now
from dive.store.models.orchestration import DeploymentLock

__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "DeployLock",
    "LockHolder",
    "acquire_deploy_lock",
    "advisory_key",
    "deploy_lock_name",
    "read_holder",
]

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S: Final = 5.0
WAIT_POLL_S: Final = 0.5
HOLDER_READ_S: Final = 2.0  # the winner may not have written its record yet
HOLDER_READ_POLL_S: Final = 0.1
REMOTE_HEARTBEAT_MAX_AGE: Final = timedelta(seconds=30)
_PG_KEEPALIVES: Final = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def deploy_lock_name(code: str) -> str:
    return f"deploy:{code}"


def advisory_key(name: str) -> int:
    """First 8 bytes of sha256("dive:" + name), signed big-endian (§6.2; never Python's `hash()`)."""
    return int.from_bytes(hashlib.sha256(f"dive:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True, kw_only=True)
class LockHolder:
    pid: int | None
    host: str | None
    start_ticks: int | None
    run_id: str | None
    command: str | None
    since: datetime | None
    heartbeat_at: datetime | None

    def is_alive(self, *, now: datetime | None = None) -> bool:
        """Same host: the pid lives and started at the recorded tick. Other host: a heartbeat within 30 s (§6.3)."""
        if self.host == socket.gethostname():
            return self.pid is not None and is_process_alive(self.pid, self.start_ticks)
        beat = self.heartbeat_at or self.since
        return beat is not None and (now or utc_now()) - beat < REMOTE_HEARTBEAT_MAX_AGE

    def describe(self) -> str:
        since = self.since.strftime("%H:%M:%S UTC") if self.since else "an unknown time"
        return f"pid {self.pid} on {self.host} · run {self.run_id} · `{self.command}` · since {since}"

    def as_detail(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "host": self.host,
            "run_id": self.run_id,
            "command": self.command,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
        }


class _Guard(Protocol):
    backend: str
    key: int | None

    def try_acquire(self) -> bool: ...

    def publish(self, holder: LockHolder) -> None: ...

    def release(self) -> None: ...


class _FlockGuard:
    """`flock(LOCK_EX|LOCK_NB)` on the lock file; the descriptor is held for the run and the kernel frees it."""

    backend = "flock"
    key = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # close-on-exec: children never inherit it
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._descriptor = descriptor
        return True

    def publish(self, holder: LockHolder) -> None:
        assert self._descriptor is not None
        os.ftruncate(self._descriptor, 0)
        os.pwrite(self._descriptor, json.dumps(holder.as_detail() | {"start_ticks": holder.start_ticks}).encode(), 0)

    def release(self) -> None:
        if self._descriptor is not None:
            os.ftruncate(self._descriptor, 0)  # still under the flock: a released lock names no holder
            os.close(self._descriptor)
            self._descriptor = None


class _AdvisoryGuard:
    """`pg_try_advisory_lock(key)` on a dedicated autocommit connection with TCP keepalives, held for the run."""

    backend = "pg-advisory"

    def __init__(self, engine: Engine, name: str) -> None:
        self.key = advisory_key(name)
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._application_name = f"dive-lock:{name}"[:63]
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def try_acquire(self) -> bool:
        connection = psycopg.connect(
            self._conninfo, autocommit=True, application_name=self._application_name, **_PG_KEEPALIVES
        )
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if row is None or not row[0]:
            connection.close()
            return False
        self._connection = connection
        return True

    def publish(self, holder: LockHolder) -> None:
        """The record in `deployment_locks` is the only published holder on PostgreSQL."""

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            finally:
                self._connection.close()
                self._connection = None


class DeployLock:
    """A held `deploy:<c>` lock: guard + record + heartbeat. Release it with `release()` or as a context manager."""

    def __init__(self, engine: Engine, guard: _Guard, code: str, holder: LockHolder) -> None:
        self.code = code
        self.name = deploy_lock_name(code)
        self.holder = holder
        self.backend = guard.backend
        self.stale_records_closed = 0
        self._engine = engine
        self._guard = guard
        self._row_id: int | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def _record(self) -> None:
        """Close every unreleased row of this lock as stale (one LOCK_STALE_CLEANED each), insert ours (§6.2)."""
        now = utc_now()
        with writer_session_factory(self._engine)() as session:
            held = DeploymentLock.lock_name == self.name, DeploymentLock.released_at.is_(None)
            stale = session.scalars(select(DeploymentLock).where(*held)).all()
            for row in stale:
                row.released_at, row.release_reason = max(now, row.acquired_at), "stale"
                record_error(
                    session,
                    "LOCK_STALE_CLEANED",
                    HIGH,
                    f"lock {self.name} of pid {row.holder_pid} on {row.holder_host} (run {row.run_id}) was stale",
                    instance_code=self.code,
                    run_id=row.run_id,
                    context={"lock_id": row.id, "holder_pid": row.holder_pid},
                )
            session.flush()
            row = DeploymentLock(
                lock_name=self.name,
                instance_code=self.code,
                run_id=self.holder.run_id,
                backend=self.backend,
                lock_key=self._guard.key,
                holder_host=self.holder.host,
                holder_pid=self.holder.pid,
                holder_start_ticks=self.holder.start_ticks,
                holder_command=self.holder.command,
                acquired_at=now,
                heartbeat_at=now,
            )
            session.add(row)
            session.commit()
            self._row_id, self.stale_records_closed = row.id, len(stale)

    def _start_heartbeat(self) -> None:
        self._heartbeat = threading.Thread(target=self._beat, name=f"heartbeat {self.name}", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            try:
                with writer_session_factory(self._engine).begin() as session:
                    session.execute(
                        update(DeploymentLock).where(DeploymentLock.id == self._row_id).values(heartbeat_at=utc_now())
                    )
            except SQLAlchemyError as exc:  # a missed beat only ages the display; the guard still holds
                log.warning("lock heartbeat failed", extra={"lock": self.name, "error": str(exc)})

    def release(self, reason: str = "normal") -> None:
        """Stop the heartbeat, close the record, free the guard. Safe to call twice."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        try:
            if self._row_id is not None:
                with writer_session_factory(self._engine).begin() as session:
                    session.execute(
                        update(DeploymentLock)
                        .where(DeploymentLock.id == self._row_id, DeploymentLock.released_at.is_(None))
                        .values(released_at=utc_now(), release_reason=reason)
                    )
                self._row_id = None
        finally:
            self._guard.release()

    def __enter__(self) -> DeployLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def acquire_deploy_lock(
    engine: Engine, home: Path, code: str, *, run_id: str | None, command: str, wait_s: float = 0.0
) -> DeployLock:
    """Take `deploy:<code>`, polling every 0.5 s for up to `wait_s`; `LockHeldError` (exit 2) names the holder."""
    guard = _guard_for(engine, home, code)
    deadline = time.monotonic() + wait_s
    while not guard.try_acquire():
        if time.monotonic() >= deadline:
            raise _held_error(engine, home, code)
        time.sleep(WAIT_POLL_S)
    holder = LockHolder(
        pid=os.getpid(),
        host=socket.gethostname(),
        start_ticks=current_process_start_ticks(),
        run_id=run_id,
        command=command,
        since=utc_now(),
        heartbeat_at=None,
    )
    lock = DeployLock(engine, guard, code, holder)
    try:
        guard.publish(holder)
        lock._record()
    except BaseException:
        guard.release()
        raise
    lock._start_heartbeat()
    return lock


def read_holder(engine: Engine, home: Path, code: str) -> LockHolder | None:
    """The recorded holder of `deploy:<code>`: the unreleased row, else the lock file's JSON (embedded store)."""
    with writer_session_factory(engine)() as session:
        row = session.scalars(
            select(DeploymentLock).where(
                DeploymentLock.lock_name == deploy_lock_name(code), DeploymentLock.released_at.is_(None)
            )
        ).first()
    if row is not None:
        return LockHolder(
            pid=row.holder_pid,
            host=row.holder_host,
            start_ticks=row.holder_start_ticks,
            run_id=row.run_id,
            command=row.holder_command,
            since=row.acquired_at,
            heartbeat_at=row.heartbeat_at,
        )
    if engine.dialect.name == "sqlite":
        return _holder_from_file(_lock_file(home, code))
    return None


def _guard_for(engine: Engine, home: Path, code: str) -> _Guard:
    if engine.dialect.name == "postgresql":
        return _AdvisoryGuard(engine, deploy_lock_name(code))
    return _FlockGuard(_lock_file(home, code))


def _lock_file(home: Path, code: str) -> Path:
    return home / "locks" / f"deploy-{code}.lock"


def _holder_from_file(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text() or "null")
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    since = data.get("since")
    return LockHolder(
        pid=data.get("pid"),
        host=data.get("host"),
        start_ticks=data.get("start_ticks"),
        run_id=data.get("run_id"),
        command=data.get("command"),
        since=datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(UTC) if since else None,
        heartbeat_at=None,
    )


def _held_error(engine: Engine, home: Path, code: str) -> LockHeldError:
    name = deploy_lock_name(code)
    deadline = time.monotonic() + HOLDER_READ_S
    holder = read_holder(engine, home, code)
    while holder is None and time.monotonic() < deadline:
        time.sleep(HOLDER_READ_POLL_S)
        holder = read_holder(engine, home, code)
    who = holder.describe() if holder else "holder: unknown (lock just taken)"
    return LockHeldError(
        f"{code.upper()} is being deployed by another process: lock {name} is held ({who}). Nothing was changed. "
        f"Wait for that run, or, if that process no longer exists, run: dive spoke clean-locks {code}",
        {"lock": name, "holder": holder.as_detail() if holder else None},
        remediation=f"wait for the holder, or if it is gone: dive spoke clean-locks {code}",
    )
