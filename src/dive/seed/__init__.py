"""Seeding an instance: its test accounts (spec/abac.md §6) and its ZTDF documents (§7)."""

from __future__ import annotations

from dive.seed.accounts import (
    ADMIN_ROLE,
    TEST_USER_PASSWORD_SECRET,
    USER_ROLE,
    AccountSpec,
    admin_password_secret,
    test_accounts,
)
from dive.seed.documents import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    MAX_COUNT,
    SeedDocument,
    check_count,
    seed_documents,
    seed_label,
    seed_resource_id,
)
from dive.seed.errors import SeedCountError, SeedError, SeedLabelRejectedError, SeedOptionsError
from dive.seed.writer import DEFAULT_BATCH_SIZE, DEFAULT_THREADS, SeedResult, kas_targets_for, write_seed

__all__ = [
    "ADMIN_ROLE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "DEFAULT_THREADS",
    "MAX_COUNT",
    "TEST_USER_PASSWORD_SECRET",
    "USER_ROLE",
    "AccountSpec",
    "SeedCountError",
    "SeedDocument",
    "SeedError",
    "SeedLabelRejectedError",
    "SeedOptionsError",
    "SeedResult",
    "admin_password_secret",
    "check_count",
    "kas_targets_for",
    "seed_documents",
    "seed_label",
    "seed_resource_id",
    "test_accounts",
    "write_seed",
]
