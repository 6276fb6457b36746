"""`ensure_schema` and `check_schema`, exactly as spec/orchestration.md §5.1 prescribes.

1. Take the migration lock `migrate:<database>`: a PostgreSQL advisory lock polled every 0.5 s (up to 120 s) on a
   dedicated autocommit connection, or `flock` on `locks/migrate-<db>.lock` for SQLite.
2. Read the revision; below head → `alembic upgrade head` on a separate connection; newer than the code → fail.
3. Verify: revision = head and the tables are exactly `metadata.tables` + `alembic_version`.
4. Release.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from dive.store.engine import create_engine_for, safe_url, writer_engine
from dive.store.errors import (
    DatabaseUnavailableError,
    MigrationError,
    MigrationLockTimeoutError,
    SchemaBehindError,
    SchemaNewerError,
    TableCountMismatchError,
)
from dive.store.models import Base

__all__ = [
    "MIGRATION_LOCK_TIMEOUT_S",
    "SchemaStatus",
    "alembic_config",
    "check_schema",
    "ensure_schema",
    "expected_tables",
    "head_revision",
]

MIGRATION_LOCK_TIMEOUT_S: Final = 120.0
PG_LOCK_POLL_S: Final = 0.5
FLOCK_POLL_S: Final = 0.1
VERSION_TABLE: Final = "alembic_version"
SCRIPT_LOCATION: Final = "dive.store:migrations"


@dataclass(frozen=True)
class SchemaStatus:
    revision: str
    head: str
    table_count: int
    migrated: bool  # this call ran the upgrade
    previous_revision: str | None  # the revision found before it (None: empty database)


def alembic_config() -> Config:
    """The Alembic configuration, built in code: the scripts ship inside the package, no alembic.ini is read."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("the migration history is empty; the dive package is incomplete")
    return head


def expected_tables() -> frozenset[str]:
    """Every table of the one metadata plus Alembic's version table (computed, never hard-coded)."""
    return frozenset(Base.metadata.tables) | {VERSION_TABLE}


def ensure_schema(
    url: str, *, lock_dir: Path | None = None, lock_timeout_s: float = MIGRATION_LOCK_TIMEOUT_S
) -> SchemaStatus:
    """Bring the database at `url` to head under the migration lock, then verify it (orchestration §5.1).

    `lock_dir` holds SQLite's lock file (`DIVE_HOME/locks`); without it the file sits beside the database.
    """
    engine = create_engine_for(url)
    try:
        _probe(engine)
        with _migration_lock(engine, lock_dir, lock_timeout_s):
            head = head_revision()
            previous = _read_revision(engine)
            _refuse_newer(previous, engine)
            if previous != head:
                _upgrade(engine)
            return _verify(engine, head, migrated=previous != head, previous=previous)
    finally:
        engine.dispose()


def check_schema(url: str) -> SchemaStatus:
    """Read-only start-up check for services: the database must be at head with exactly the expected tables."""
    engine = create_engine_for(url)
    try:
        _probe(engine)
        head = head_revision()
        current = _read_revision(engine)
        _refuse_newer(current, engine)
        if current != head:
            raise SchemaBehindError(
                f"database {safe_url(engine.url)} is at revision {current or 'none'}, the code needs {head}; "
                "run `dive orch-db migrate` or redeploy the instance",
                {"revision": current, "head": head},
            )
        return _verify(engine, head, migrated=False, previous=current)
    finally:
        engine.dispose()


def _probe(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"database {safe_url(engine.url)} is unreachable: {exc.__class__.__name__}; check DIVE_DATABASE_URL"
        ) from exc


@contextmanager
def _migration_lock(engine: Engine, lock_dir: Path | None, timeout_s: float) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, f"migrate:{engine.url.database}", timeout_s):
            yield
    else:
        with _file_lock(_lock_file(Path(str(engine.url.database)), lock_dir), timeout_s):
            yield


@contextmanager
def _advisory_lock(engine: Engine, name: str, timeout_s: float) -> Iterator[None]:
    key = _advisory_key(name)
    # A bounded pg_advisory_lock: the session lock lives as long as this dedicated connection holds it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        deadline = time.monotonic() + timeout_s
        while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            if time.monotonic() >= deadline:
                raise _lock_timeout(name, timeout_s)
            time.sleep(PG_LOCK_POLL_S)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _file_lock(path: Path, timeout_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _lock_timeout(str(path), timeout_s) from None
                time.sleep(FLOCK_POLL_S)
        yield  # closing the descriptor releases the lock
    finally:
        os.close(descriptor)


def _lock_file(database: Path, lock_dir: Path | None) -> Path:
    if lock_dir is None:
        return database.with_name(f"migrate-{database.stem}.lock")
    # `instances/<c>/data/instance.db` is named like its PostgreSQL twin (`dive_<c>`), so locks/ reads well.
    if database.name == "instance.db" and database.parent.name == "data":
        return lock_dir / f"migrate-dive_{database.parent.parent.name}.lock"
    return lock_dir / f"migrate-{database.stem}.lock"


def _lock_timeout(name: str, timeout_s: float) -> MigrationLockTimeoutError:
    return MigrationLockTimeoutError(
        f"migration lock {name} is still held after {timeout_s:.0f} s; another deployer is migrating, "
        "wait for it or find the stuck process",
        {"lock": name, "timeout_s": timeout_s},
    )


def _read_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision_of(connection)


def _revision_of(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise MigrationError(f"database records several revisions {sorted(heads)}; the history must be linear")
    return heads[0] if heads else None


def _refuse_newer(revision: str | None, engine: Engine) -> None:
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision is not None and revision not in known:
        raise SchemaNewerError(
            f"database {safe_url(engine.url)} is at revision {revision}, newer than this code knows "
            f"(head {head_revision()}); upgrade dive, never downgrade the database",
            {"revision": revision, "head": head_revision()},
        )


def _upgrade(engine: Engine) -> None:
    config = alembic_config()
    try:
        with writer_engine(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise MigrationError(f"migrating {safe_url(engine.url)} failed: {exc}") from exc


def _verify(engine: Engine, head: str, *, migrated: bool, previous: str | None) -> SchemaStatus:
    with engine.connect() as connection:
        revision = _revision_of(connection)
        schema = "public" if engine.dialect.name == "postgresql" else None
        tables = frozenset(inspect(connection).get_table_names(schema=schema))
    if revision != head:
        raise MigrationError(f"database {safe_url(engine.url)} is at {revision} after migrating, not {head}")
    expected = expected_tables()
    if tables != expected:
        missing, extra = sorted(expected - tables), sorted(tables - expected)
        raise TableCountMismatchError(
            f"database {safe_url(engine.url)} has {len(tables)} tables, expected {len(expected)}; "
            f"missing {missing or 'none'}, extra {extra or 'none'}",
            {"expected": len(expected), "found": len(tables), "missing": missing, "extra": extra},
        )
    return SchemaStatus(revision, head, len(tables), migrated, previous)
