"""ensure_schema / check_schema (spec/orchestration.md §5.1) on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from dbfixtures import call_concurrently, sqlite_url
from dive.store import (
    DatabaseUnavailableError,
    MigrationLockTimeoutError,
    SchemaBehindError,
    SchemaNewerError,
    SchemaStatus,
    TableCountMismatchError,
    check_schema,
    create_engine_for,
    ensure_schema,
    expected_tables,
    head_revision,
)
from dive.store.migrate import _advisory_key, _file_lock
from dive.store.models import Base


def _execute(url: str, statement: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def test_ensure_schema_on_an_empty_database_migrates_to_head_with_every_table(database_url: str, lock_dir: Path):
    status = ensure_schema(database_url, lock_dir=lock_dir)

    assert status.migrated and status.previous_revision is None
    assert status.revision == status.head == head_revision()
    assert status.table_count == len(Base.metadata.tables) + 1 == len(expected_tables())


def test_ensure_schema_rerun_on_a_database_at_head_only_verifies(database_url: str, lock_dir: Path):
    ensure_schema(database_url, lock_dir=lock_dir)

    again = ensure_schema(database_url, lock_dir=lock_dir)

    assert not again.migrated and again.previous_revision == head_revision()


def test_check_schema_on_a_migrated_database_passes_without_migrating(database_url: str, lock_dir: Path):
    ensure_schema(database_url, lock_dir=lock_dir)

    assert check_schema(database_url) == SchemaStatus(
        head_revision(), head_revision(), len(expected_tables()), False, head_revision()
    )


def test_check_schema_on_an_empty_database_reports_it_behind_head(database_url: str):
    with pytest.raises(SchemaBehindError, match="none") as err:
        check_schema(database_url)
    assert err.value.code == "db_schema_behind"


def test_ensure_schema_with_a_revision_newer_than_the_code_fails_and_never_downgrades(
    database_url: str, lock_dir: Path
):
    ensure_schema(database_url, lock_dir=lock_dir)
    _execute(database_url, "UPDATE alembic_version SET version_num = '9999_from_the_future'")

    with pytest.raises(SchemaNewerError, match="9999_from_the_future") as err:
        ensure_schema(database_url, lock_dir=lock_dir)
    assert err.value.code == "db_schema_newer"
    with pytest.raises(SchemaNewerError):
        check_schema(database_url)


def test_ensure_schema_with_an_extra_table_fails_naming_it(database_url: str, lock_dir: Path):
    ensure_schema(database_url, lock_dir=lock_dir)
    _execute(database_url, "CREATE TABLE stray_table (id INTEGER PRIMARY KEY)")

    with pytest.raises(TableCountMismatchError, match="stray_table") as err:
        ensure_schema(database_url, lock_dir=lock_dir)
    assert err.value.code == "db_table_count_mismatch"
    assert err.value.detail["extra"] == ["stray_table"] and err.value.detail["missing"] == []


def test_ensure_schema_with_a_missing_table_fails_naming_it(database_url: str, lock_dir: Path):
    ensure_schema(database_url, lock_dir=lock_dir)
    _execute(database_url, "DROP TABLE decision_log")

    with pytest.raises(TableCountMismatchError) as err:
        check_schema(database_url)
    assert err.value.detail["missing"] == ["decision_log"]


def test_four_processes_migrating_one_fresh_database_all_succeed_and_exactly_one_migrates(
    database_url: str, lock_dir: Path
):
    results = call_concurrently(4, ensure_schema, database_url, lock_dir=lock_dir)

    assert all(isinstance(result, SchemaStatus) for result in results), results
    assert {result.revision for result in results} == {head_revision()}
    assert sum(result.migrated for result in results) == 1
    assert check_schema(database_url).table_count == len(expected_tables())


def test_ensure_schema_waiting_on_a_held_sqlite_lock_times_out(tmp_path: Path):
    url, locks = sqlite_url(tmp_path), tmp_path / "locks"
    with _file_lock(locks / "migrate-instance.lock", 1), pytest.raises(MigrationLockTimeoutError) as err:
        ensure_schema(url, lock_dir=locks, lock_timeout_s=0.3)
    assert err.value.code == "db_migration_lock_timeout"


@pytest.mark.postgres
def test_ensure_schema_waiting_on_a_held_advisory_lock_times_out(postgres_url: str):
    database = postgres_url.rsplit("/", 1)[1]
    engine = create_engine_for(postgres_url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(f"migrate:{database}")})
            with pytest.raises(MigrationLockTimeoutError) as err:
                ensure_schema(postgres_url, lock_timeout_s=1.0)
    finally:
        engine.dispose()
    assert err.value.code == "db_migration_lock_timeout"
    assert ensure_schema(postgres_url).migrated  # closing the holder's connection released the lock


def test_instance_databases_in_a_lock_dir_get_lock_files_named_like_their_postgresql_database(tmp_path: Path):
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'instances' / 'fra' / 'data' / 'instance.db'}"

    ensure_schema(url, lock_dir=home / "locks")

    assert (home / "locks" / "migrate-dive_fra.lock").exists()


def test_sqlite_connections_use_wal_foreign_keys_a_busy_timeout_and_normal_sync(tmp_path: Path):
    engine = create_engine_for(sqlite_url(tmp_path))
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000, "synchronous": 1}


def test_ensure_schema_on_an_unreachable_server_reports_db_unavailable():
    with pytest.raises(DatabaseUnavailableError, match="unreachable") as err:
        ensure_schema("postgresql://nobody:secret@127.0.0.1:1/dive_usa")
    assert err.value.code == "db_unavailable"
    assert "secret" not in err.value.message
