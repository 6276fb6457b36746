"""The PostgreSQL server side of a deployment (spec/orchestration.md §1.1, §1.2, §10): the CLI, connected as the role of
`DIVE_DATABASE_URL`, creates role `dive_<c>` with its generated password and database `dive_<c>` owned by it, and nuke
drops them again. Every statement tolerates a concurrent deployer of another instance doing the same."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from dive.orchestration.database import ORCHESTRATION_DATABASE
from dive.orchestration.deploy.instance import InstanceFacts
from dive.store import DatabaseUnavailableError, StoreConfigError, safe_url
from dive.store.instance_url import db_password_path, instance_database_name, postgres_server_url

__all__ = [
    "database_exists",
    "drop_database",
    "drop_role",
    "orchestration_database_exists",
    "provision_instance_database",
    "role_exists",
    "set_role_password",
]

_CONNECT_TIMEOUT_S: Final = 5
_MAINTENANCE_DATABASE: Final = "postgres"


def provision_instance_database(facts: InstanceFacts) -> str | None:
    """Ensure role and database `dive_<c>` (idempotent); None in embedded mode, where there is nothing to create."""
    server = postgres_server_url(facts.environ)
    if server is None:
        return None
    name = instance_database_name(facts.code)
    password = facts.secrets.get(db_password_path(facts.code))
    if password is None:
        raise StoreConfigError(f"secret {db_password_path(facts.code)} is missing; run the INITIALIZATION phase again")
    with _server_connection(server) as connection:
        _ensure_role(connection, name, password)
        _ensure_database(connection, name, owner=name)
    return f"database {name} owned by role {name}"


def set_role_password(facts: InstanceFacts, password: str) -> None:
    """§9.3 `db-password`: `ALTER ROLE`; the services receive the new URL when they are restarted."""
    server = postgres_server_url(facts.environ)
    if server is None:
        raise StoreConfigError("db-password exists only when DIVE_DATABASE_URL names a PostgreSQL server")
    with _server_connection(server) as connection:
        _ensure_role(connection, instance_database_name(facts.code), password)


def database_exists(server_url: str, name: str) -> bool:
    with _server_connection(server_url) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def role_exists(server_url: str, name: str) -> bool:
    with _server_connection(server_url) as connection:
        return connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None


def drop_database(server_url: str, name: str) -> bool:
    """Drop database `name`, ending its sessions first (services of a crashed run may still hold some).
    True when it existed."""
    with _server_connection(server_url) as connection:
        existed = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return existed


def drop_role(server_url: str, name: str) -> bool:
    """Drop role `name` (it owns nothing once its database is gone). True when it existed."""
    with _server_connection(server_url) as connection:
        existed = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    return existed


def _ensure_role(connection: psycopg.Connection, role: str, password: str) -> None:
    # Utility statements take no bind parameters: the password is composed client-side as a quoted literal.
    with contextlib.suppress(psycopg.errors.DuplicateObject):  # an earlier (crashed) run made it; password set below
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    connection.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def _ensure_database(connection: psycopg.Connection, name: str, *, owner: str) -> None:
    database, role = sql.Identifier(name), sql.Identifier(owner)
    if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent creator won: just fix the owner
            connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
    connection.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, role))


@contextlib.contextmanager
def _server_connection(server_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit session on the database the server URL names (CREATE/DROP DATABASE refuse transactions)."""
    server = make_url(server_url)
    conninfo = server.set(drivername="postgresql", database=server.database or _MAINTENANCE_DATABASE)
    try:
        connection = psycopg.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(f"PostgreSQL at {safe_url(server_url)} is unreachable: {exc}") from exc
    try:
        with connection:
            yield connection
    except psycopg.Error as exc:  # typically: the role of DIVE_DATABASE_URL lacks CREATEDB/CREATEROLE
        raise DatabaseUnavailableError(
            f"PostgreSQL at {safe_url(server_url)} refused to create or drop a database or role: {exc}; "
            "DIVE_DATABASE_URL must name a role allowed to create databases and roles"
        ) from exc


def orchestration_database_exists(home: Path, environ: Mapping[str, str]) -> bool:
    """Whether the orchestration DB exists (read-only views never create it); False when the server is unreachable."""
    server = postgres_server_url(environ)
    if server is None:
        return (home / "orchestration.db").exists()
    try:
        return database_exists(server, ORCHESTRATION_DATABASE)
    except DatabaseUnavailableError:
        return False
