"""The read-only role through which an api exports deployment metrics (spec/orchestration.md §9.4, §12.1): on
PostgreSQL the api must not hold the server role of `DIVE_DATABASE_URL`, which may create databases and roles, so it
reads database `orchestration` as `dive_orchestration_reader`, whose generated password is the secret
`_shared/orchestration-reader-password`. Embedded deployments keep reading the orchestration file directly."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from dive.orchestration.database import ORCHESTRATION_DATABASE, orchestration_url
from dive.secrets.generation import SHARED_ORCHESTRATION_READER_PASSWORD
from dive.store import DatabaseUnavailableError, StoreConfigError, safe_url
from dive.store.instance_url import postgres_server_url

if TYPE_CHECKING:
    from dive.orchestration.deploy.instance import InstanceFacts

__all__ = [
    "ORCHESTRATION_READER_ROLE",
    "grant_read_only",
    "orchestration_reader_url",
    "provision_orchestration_reader",
]

ORCHESTRATION_READER_ROLE: Final = "dive_orchestration_reader"
_CONNECT_TIMEOUT_S: Final = 5
# pg_advisory_xact_lock key shared by every provisioner: concurrent GRANTs on one object fail with "tuple
# concurrently updated", so deployers take turns (the value is arbitrary, it only has to be the same everywhere).
_PROVISION_LOCK_KEY: Final = 0x0D1BE0C4


def orchestration_reader_url(home: Path, environ: Mapping[str, str], password: str | None) -> str:
    """`DIVE_ORCH_DATABASE_URL` for an api: the orchestration DB as the reader role, or the embedded file."""
    server = postgres_server_url(environ)
    if server is None:
        return orchestration_url(home, environ)
    parsed = make_url(server)
    # URL.create, not URL.set: set() ignores None and would keep the server role's password.
    url = URL.create(
        "postgresql+psycopg",
        ORCHESTRATION_READER_ROLE,
        password,
        parsed.host,
        parsed.port,
        database=ORCHESTRATION_DATABASE,
        query=parsed.query,
    )
    return url.render_as_string(hide_password=False)


def provision_orchestration_reader(facts: InstanceFacts) -> str | None:
    """Ensure the reader role and its grants on the (migrated) orchestration DB; None in embedded mode."""
    if facts.postgres_server_url is None:
        return None
    password = facts.secrets.get(SHARED_ORCHESTRATION_READER_PASSWORD)
    if password is None:
        raise StoreConfigError(
            f"secret {SHARED_ORCHESTRATION_READER_PASSWORD} is missing; run the INITIALIZATION phase again"
        )
    grant_read_only(facts.orchestration_url, ORCHESTRATION_READER_ROLE, password)
    return f"read-only role {ORCHESTRATION_READER_ROLE} on database {ORCHESTRATION_DATABASE}"


def grant_read_only(database_url: str, role: str, password: str) -> None:
    """Create login role `role` (idempotent) and let it SELECT every table of the public schema of the database,
    including tables that later migrations create. Connects as the role of `database_url`, which runs the migrations:
    the default privileges apply to tables that role creates."""
    target = make_url(database_url)
    conninfo = target.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(f"PostgreSQL at {safe_url(database_url)} is unreachable: {exc}") from exc
    grantee, database = sql.Identifier(role), sql.Identifier(str(target.database))
    try:
        with connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_PROVISION_LOCK_KEY,))
            # Roles are server-wide: a provisioner of another database may create it at the same moment.
            duplicate = (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation)
            with contextlib.suppress(*duplicate), connection.transaction():  # a savepoint: the failure is undone
                connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(grantee))
            # Utility statements take no bind parameters: the password is composed client-side as a quoted literal.
            connection.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(grantee, sql.Literal(password)))
            for statement in (
                "GRANT CONNECT ON DATABASE {database} TO {grantee}",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",  # already so since PostgreSQL 15; older servers too
                "GRANT USAGE ON SCHEMA public TO {grantee}",
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {grantee}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {grantee}",
            ):
                connection.execute(sql.SQL(statement).format(database=database, grantee=grantee))
    except psycopg.Error as exc:  # typically: the role of DIVE_DATABASE_URL lacks CREATEROLE
        raise DatabaseUnavailableError(
            f"PostgreSQL at {safe_url(database_url)} refused to set up the read-only role {role}: {exc}; "
            "DIVE_DATABASE_URL must name a role allowed to create databases and roles"
        ) from exc
