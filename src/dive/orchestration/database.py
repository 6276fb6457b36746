"""The orchestration database (spec/orchestration.md §1.2, §5.1): embedded `DIVE_HOME/orchestration.db`, or database
`orchestration` on the PostgreSQL server of `DIVE_DATABASE_URL`. Created and migrated before any lock is taken."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from dive.store import DatabaseUnavailableError, SchemaStatus, create_engine_for, ensure_schema, safe_url
from dive.store.engine import orchestration_database_url

__all__ = ["ORCHESTRATION_DATABASE", "open_orchestration_db", "orchestration_url"]

ORCHESTRATION_DATABASE: Final = "orchestration"
_CONNECT_TIMEOUT_S: Final = 5


def orchestration_url(home: Path, environ: Mapping[str, str]) -> str:
    server = environ.get("DIVE_DATABASE_URL", "").strip()
    if not server:
        return orchestration_database_url(home)
    return make_url(server).set(database=ORCHESTRATION_DATABASE).render_as_string(hide_password=False)


def open_orchestration_db(home: Path, environ: Mapping[str, str]) -> tuple[Engine, SchemaStatus]:
    """Create the database if needed, migrate it under the migration lock, and return an engine on it."""
    url = orchestration_url(home, environ)
    if make_url(url).get_backend_name() == "postgresql":
        _create_postgres_database(url)
    status = ensure_schema(url, lock_dir=home / "locks")
    return create_engine_for(url), status


def _create_postgres_database(url: str) -> None:
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone()
            if exists is None:
                connection.execute(f'CREATE DATABASE "{target.database}"')
    except psycopg.errors.DuplicateDatabase:
        return  # a concurrent deployer created it first
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(f"PostgreSQL at {safe_url(url)} is unreachable: {exc}") from exc
