"""The data store: engines, the one schema and its migrations, and the repositories (DESIGN.md "Data stores")."""

from __future__ import annotations

from dive.store.audit import DecisionCursor, DecisionLogRepository, DecisionPage, DecisionQuery, DecisionRecord
from dive.store.engine import (
    create_engine_for,
    instance_database_url,
    orchestration_database_url,
    resolve_database_url,
    safe_url,
    session_factory,
    writer_engine,
    writer_session_factory,
)
from dive.store.errors import (
    DatabaseUnavailableError,
    DriverMissingError,
    EmbeddedStoreRefusedError,
    MigrationError,
    MigrationLockTimeoutError,
    RecordInvalidError,
    SchemaBehindError,
    SchemaNewerError,
    StoreConfigError,
    StoreError,
    TableCountMismatchError,
)
from dive.store.migrate import SchemaStatus, check_schema, ensure_schema, expected_tables, head_revision
from dive.store.registry import FederationRegistryRepository, RegistrySnapshot, TrustedPartner
from dive.store.resources import ResourceRepository

__all__ = [
    "DatabaseUnavailableError",
    "DecisionCursor",
    "DecisionLogRepository",
    "DecisionPage",
    "DecisionQuery",
    "DecisionRecord",
    "DriverMissingError",
    "EmbeddedStoreRefusedError",
    "FederationRegistryRepository",
    "MigrationError",
    "MigrationLockTimeoutError",
    "RecordInvalidError",
    "RegistrySnapshot",
    "ResourceRepository",
    "SchemaBehindError",
    "SchemaNewerError",
    "SchemaStatus",
    "StoreConfigError",
    "StoreError",
    "TableCountMismatchError",
    "TrustedPartner",
    "check_schema",
    "create_engine_for",
    "ensure_schema",
    "expected_tables",
    "head_revision",
    "instance_database_url",
    "orchestration_database_url",
    "resolve_database_url",
    "safe_url",
    "session_factory",
    "writer_engine",
    "writer_session_factory",
]
