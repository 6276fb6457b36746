"""Orchestration tests run on SQLite and, when the test server answers, on PostgreSQL (orchestration §13.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import postgres_database, sqlite_url
from dive.store import create_engine_for, ensure_schema, writer_session_factory


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh orchestration database of each backend, migrated to head."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path, "orchestration.db")
        ensure_schema(url, lock_dir=tmp_path / "locks")
        yield url
    else:
        with postgres_database() as url:
            ensure_schema(url)
            yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return writer_session_factory(engine)
