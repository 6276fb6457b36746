"""Engines, URLs and SQLite transaction modes (spec/orchestration.md §1.3, §5.1; DESIGN.md "Data stores")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

import dive.store
from dbfixtures import sqlite_url
from dive.store import (
    EmbeddedStoreRefusedError,
    StoreConfigError,
    create_engine_for,
    instance_database_url,
    orchestration_database_url,
    resolve_database_url,
    safe_url,
    session_factory,
    writer_session_factory,
)


def test_every_name_in_the_store_surface_exists():
    assert all(hasattr(dive.store, name) for name in dive.store.__all__)


def test_instance_database_url_is_the_embedded_file_of_the_lower_case_code(tmp_path: Path):
    assert instance_database_url(tmp_path, "FRA") == f"sqlite:///{tmp_path.resolve()}/instances/fra/data/instance.db"
    assert orchestration_database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/orchestration.db"


def test_instance_database_url_with_a_malformed_code_is_refused(tmp_path: Path):
    with pytest.raises(StoreConfigError, match="'fr'") as err:
        instance_database_url(tmp_path, "fr")
    assert err.value.code == "store_config_invalid"


def test_resolve_database_url_prefers_dive_database_url(tmp_path: Path):
    url = "postgresql://dive_fra@db:5432/dive_fra"
    assert resolve_database_url({"DIVE_DATABASE_URL": url, "DIVE_ENV": "production"}, tmp_path, "fra") == url


def test_resolve_database_url_without_a_url_falls_back_to_the_embedded_store(tmp_path: Path):
    resolved = resolve_database_url({"DIVE_ENV": "development"}, tmp_path, "fra")
    assert resolved == instance_database_url(tmp_path, "fra")


@pytest.mark.parametrize("environ", [{}, {"DIVE_DATABASE_URL": "sqlite:////var/lib/dive/fra.db"}])
def test_resolve_database_url_in_production_refuses_the_embedded_store(tmp_path: Path, environ: dict[str, str]):
    with pytest.raises(EmbeddedStoreRefusedError, match="DIVE_DATABASE_URL") as err:
        resolve_database_url({**environ, "DIVE_ENV": "production"}, tmp_path, "fra")
    assert err.value.code == "embedded_store_refused"


@pytest.mark.parametrize("url", ["postgresql://dive@db/dive_fra", "postgres://dive@db/dive_fra"])
def test_postgresql_urls_are_driven_by_psycopg_3(url: str):
    engine = create_engine_for(url)
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://root@db/dive", "sqlite://", "sqlite:///:memory:", "postgresql+psycopg2://dive@db/x"]
)
def test_unsupported_database_urls_are_refused(url: str):
    with pytest.raises(StoreConfigError):
        create_engine_for(url)


def test_safe_url_masks_the_password():
    assert safe_url("postgresql://dive:hunter2@db:5432/dive_fra") == "postgresql://dive:***@db:5432/dive_fra"


def test_sqlite_writer_sessions_take_the_write_lock_at_begin_and_readers_do_not(tmp_path: Path):
    engine = create_engine_for(sqlite_url(tmp_path))
    other = sqlite3.connect(tmp_path / "instance.db", timeout=0, isolation_level=None)
    try:
        with session_factory(engine).begin() as reading:
            reading.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a deferred reader leaves the write lock free
            other.execute("ROLLBACK")
        with writer_session_factory(engine).begin() as writing:
            writing.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        engine.dispose()
