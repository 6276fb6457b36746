"""Every store test runs on SQLite and, when the test server answers, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import postgres_database, sqlite_url
from dive.store import create_engine_for, ensure_schema, session_factory, writer_session_factory


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (skips when the test server is unreachable)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def lock_dir(tmp_path: Path) -> Path:
    return tmp_path / "locks"


@pytest.fixture
def engine(database_url: str, lock_dir: Path) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    ensure_schema(database_url, lock_dir=lock_dir)
    engine = create_engine_for(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    return writer_session_factory(engine)


@pytest.fixture
def reader(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)
