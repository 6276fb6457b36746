"""Engines and sessions for both backends (spec/orchestration.md §5.1; DESIGN.md "Data stores").

SQLite: WAL, foreign keys, a 10 s busy timeout and `synchronous=NORMAL` on every connection; the driver's own
transaction handling is switched off so that we emit `BEGIN` ourselves, `BEGIN IMMEDIATE` for writers (a deferred
transaction that upgrades to a writer can fail at once with SQLITE_BUSY instead of waiting).
PostgreSQL: always through psycopg 3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as _sa_create_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from dive.store.errors import DriverMissingError, EmbeddedStoreRefusedError, StoreConfigError

__all__ = [
    "create_engine_for",
    "instance_database_url",
    "orchestration_database_url",
    "resolve_database_url",
    "safe_url",
    "session_factory",
    "writer_engine",
    "writer_session_factory",
]

SQLITE_PRAGMAS: Final = (
    "PRAGMA busy_timeout=10000",  # first, so that switching to WAL waits for a concurrent opener
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
_BEGIN_OPTION: Final = "dive_sqlite_begin"
_CODE_SYNTAX: Final = re.compile(r"[A-Za-z]{3}")
_PG_BARE_DRIVERS: Final = ("postgresql", "postgres")


def create_engine_for(url: str) -> Engine:
    """An engine for a `sqlite:///…` or `postgresql://…` URL; `postgresql://` is mapped to psycopg 3."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed)
    if backend == "postgresql":
        return _create_postgresql_engine(parsed)
    raise StoreConfigError(f"database URL {safe_url(url)} names an unsupported backend; use sqlite:// or postgresql://")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for readers (and writers on PostgreSQL); objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def writer_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose transactions start with `BEGIN IMMEDIATE` on SQLite (orchestration §5.1: writers)."""
    return sessionmaker(bind=writer_engine(engine), expire_on_commit=False)


def writer_engine(engine: Engine) -> Engine:
    """The same engine and pool, but its transactions take SQLite's write lock at `BEGIN` (no-op on PostgreSQL)."""
    return engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})


def instance_database_url(home: Path, code: str) -> str:
    """The embedded database of instance `code`: `<home>/instances/<c>/data/instance.db` (orchestration §1.3)."""
    return _sqlite_url(home / "instances" / _lower_code(code) / "data" / "instance.db")


def orchestration_database_url(home: Path) -> str:
    """The embedded orchestration database: `<home>/orchestration.db` (orchestration §1.3)."""
    return _sqlite_url(home / "orchestration.db")


def resolve_database_url(environ: Mapping[str, str], home: Path, code: str) -> str:
    """`DIVE_DATABASE_URL` when set, else the embedded instance database; production refuses the embedded store."""
    url = environ.get("DIVE_DATABASE_URL", "").strip() or instance_database_url(home, code)
    if environ.get("DIVE_ENV", "").strip().lower() == "production" and _parse(url).get_backend_name() == "sqlite":
        raise EmbeddedStoreRefusedError(
            "DIVE_ENV=production refuses the embedded SQLite store; set DIVE_DATABASE_URL to a PostgreSQL database"
        )
    return url


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreConfigError(f"database URL {safe_url(url)} is not a valid URL: {exc}") from exc
    if parsed.drivername in _PG_BARE_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _create_sqlite_engine(url: URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        raise StoreConfigError("an in-memory SQLite database cannot be shared or migrated; give a file path")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = _sa_create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # the driver must not open transactions behind our back
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


def _create_postgresql_engine(url: URL) -> Engine:
    if url.drivername != "postgresql+psycopg":
        raise StoreConfigError(f"database URL {safe_url(url)} uses driver {url.drivername}; use postgresql://")
    try:
        import psycopg  # noqa: F401  (only PostgreSQL URLs need it)
    except ModuleNotFoundError as exc:
        raise DriverMissingError(
            "PostgreSQL needs psycopg 3: `pip install 'psycopg[binary]'`, or unset DIVE_DATABASE_URL"
        ) from exc
    return _sa_create_engine(url, pool_pre_ping=True)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _lower_code(code: str) -> str:
    if not _CODE_SYNTAX.fullmatch(code):
        raise StoreConfigError(f"instance code {code!r} is not three ASCII letters")
    return code.lower()
