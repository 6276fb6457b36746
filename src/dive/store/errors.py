"""Errors of the data store (spec/orchestration.md §5.1, §7.2: `code.upper()` is the orchestration error code).

StoreError                          store_error
├─ StoreConfigError                 store_config_invalid
│  ├─ DriverMissingError            db_driver_missing
│  └─ EmbeddedStoreRefusedError     embedded_store_refused
├─ DatabaseUnavailableError         db_unavailable
├─ RecordInvalidError               store_record_invalid
└─ MigrationError                   db_migration_failed
   ├─ MigrationLockTimeoutError     db_migration_lock_timeout
   ├─ SchemaNewerError              db_schema_newer
   ├─ SchemaBehindError             db_schema_behind
   └─ TableCountMismatchError       db_table_count_mismatch (detail: missing, extra)
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "DatabaseUnavailableError",
    "DriverMissingError",
    "EmbeddedStoreRefusedError",
    "MigrationError",
    "MigrationLockTimeoutError",
    "RecordInvalidError",
    "SchemaBehindError",
    "SchemaNewerError",
    "StoreConfigError",
    "StoreError",
    "TableCountMismatchError",
]


class StoreError(Exception):
    """Base of every store failure; `code` is stable, the message is for a person and never carries a password."""

    code = "store_error"

    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = dict(detail or {})

    def __reduce__(self) -> tuple[type[StoreError], tuple[str, dict[str, object]]]:
        # Keeps `detail` when the error crosses a process boundary (migration workers, supervisors).
        return type(self), (self.message, self.detail)


class StoreConfigError(StoreError):
    code = "store_config_invalid"


class DriverMissingError(StoreConfigError):
    code = "db_driver_missing"


class EmbeddedStoreRefusedError(StoreConfigError):
    code = "embedded_store_refused"


class DatabaseUnavailableError(StoreError):
    code = "db_unavailable"


class RecordInvalidError(StoreError):
    code = "store_record_invalid"


class MigrationError(StoreError):
    code = "db_migration_failed"


class MigrationLockTimeoutError(MigrationError):
    code = "db_migration_lock_timeout"


class SchemaNewerError(MigrationError):
    code = "db_schema_newer"


class SchemaBehindError(MigrationError):
    code = "db_schema_behind"


class TableCountMismatchError(MigrationError):
    code = "db_table_count_mismatch"
