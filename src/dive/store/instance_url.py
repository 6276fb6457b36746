"""Which database an instance uses, seen from the CLI (spec/orchestration.md §1.1, §1.2, §9.4). For the CLI,
`DIVE_DATABASE_URL` names a PostgreSQL *server*; each instance then lives in database `dive_<c>`, reached as its owner
role `dive_<c>` with the generated password `<c>/db-password`. Without a server URL it is the embedded file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dive.store.engine import resolve_database_url, safe_url
from dive.store.errors import StoreConfigError

__all__ = [
    "db_password_path",
    "deployment_database_url",
    "instance_database_name",
    "instance_postgres_url",
    "postgres_server_url",
]

_POSTGRES_DRIVERS: Final = ("postgresql", "postgres", "postgresql+psycopg")


def postgres_server_url(environ: Mapping[str, str]) -> str | None:
    """`DIVE_DATABASE_URL` when it names a PostgreSQL server, else None (embedded SQLite, or a SQLite URL)."""
    raw = environ.get("DIVE_DATABASE_URL", "").strip()
    if not raw:
        return None
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreConfigError(f"DIVE_DATABASE_URL={safe_url(raw)} is not a valid URL: {exc}") from exc
    return raw if url.drivername in _POSTGRES_DRIVERS else None


def instance_database_name(code: str) -> str:
    """§1.2: database and owner role `dive_<c>`."""
    return f"dive_{code.lower()}"


def db_password_path(code: str) -> str:
    """§9.2: the password of role `dive_<c>`, generated at INITIALIZATION on PostgreSQL only."""
    return f"{code.lower()}/db-password"


def instance_postgres_url(server_url: str, code: str, password: str | None) -> str:
    """The server URL re-pointed at database `dive_<c>` as role `dive_<c>` (the value services get, §9.4)."""
    name, server = instance_database_name(code), make_url(server_url)
    # URL.create, not URL.set: set() ignores None and would keep the server role's password.
    url = URL.create("postgresql+psycopg", name, password, server.host, server.port, database=name, query=server.query)
    return url.render_as_string(hide_password=False)


def deployment_database_url(environ: Mapping[str, str], home: Path, code: str, password: str | None) -> str:
    """The URL of instance `code`'s database for the CLI: `dive_<c>` on the PostgreSQL server, else embedded."""
    server = postgres_server_url(environ)
    if server is None:
        return resolve_database_url(environ, home, code)
    return instance_postgres_url(server, code, password)
