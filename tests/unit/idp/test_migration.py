"""Migration 0002_identity creates exactly the idp tables of the models (orchestration §5.1)."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect

from dive.store.engine import create_engine_for
from dive.store.models import Base
from dive.store.models import idp as idp_models

MIGRATION = importlib.import_module("dive.store.migrations.versions.0002_identity")


def test_identity_migration_follows_the_foundation():
    assert MIGRATION.revision == "0002_identity" and MIGRATION.down_revision == "0001_foundation"


def test_identity_migration_creates_exactly_the_idp_tables_with_the_model_columns(tmp_path: Path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
            MIGRATION.upgrade()
        inspector = inspect(engine)
        created = set(inspector.get_table_names())
        ours = {cls.__tablename__ for cls in map(idp_models.__dict__.get, idp_models.__all__)}
        assert created == ours
        for name in ours:
            model_columns = {c.name for c in Base.metadata.tables[name].columns}
            assert {c["name"] for c in inspector.get_columns(name)} == model_columns, name
    finally:
        engine.dispose()
