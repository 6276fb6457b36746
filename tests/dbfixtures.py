"""Database helpers for tests of any component: a SQLite file URL, a throw-away PostgreSQL database, and a way to
run one function in several processes at the same moment.

PostgreSQL tests use `DIVE_TEST_DATABASE_URL` only, never a deployment's `DIVE_DATABASE_URL` (CONSISTENCY #26).
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import psycopg
import pytest
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_TEST_DATABASE_URL", "call_concurrently", "postgres_database", "postgres_server_url", "sqlite_url"]

DEFAULT_TEST_DATABASE_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT_S: Final = 3


def sqlite_url(tmp_path: Path, name: str = "instance.db") -> str:
    """A URL for a SQLite file that does not exist yet, inside the test's temporary directory."""
    return f"sqlite:///{(tmp_path / name).resolve()}"


def postgres_server_url() -> str:
    return os.environ.get("DIVE_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


@contextmanager
def postgres_database() -> Iterator[str]:
    """Creates `dive_test_<hex>` on the test server, yields its SQLAlchemy URL, and drops it afterwards.

    Skips the test when the server is unreachable.
    """
    server = make_url(postgres_server_url())
    name = f"dive_test_{secrets.token_hex(6)}"
    _admin(server, f'CREATE DATABASE "{name}"', skip_when_unreachable=True)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', skip_when_unreachable=False)


def call_concurrently(count: int, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> list[Any]:
    """Runs `func(*args, **kwargs)` in `count` spawned processes released together by a barrier.

    Returns each call's result, or the exception it raised, in submission order. `func` must be importable.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    with ProcessPoolExecutor(count, mp_context=context, initializer=_wait_for_all, initargs=(barrier,)) as pool:
        futures = [pool.submit(func, *args, **kwargs) for _ in range(count)]
        return [future.exception() or future.result() for future in futures]


def _wait_for_all(barrier: Any) -> None:
    barrier.wait(timeout=120)


def _admin(server: Any, statement: str, *, skip_when_unreachable: bool) -> None:
    conninfo = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        if skip_when_unreachable:
            pytest.skip(f"PostgreSQL at {server.render_as_string(hide_password=True)} is unreachable: {exc}")
        raise
    with connection:
        connection.execute(statement)
