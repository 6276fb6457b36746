"""A covering index for the search pushdown (abac §9.3): listing reads every predicate column from the index in the
page order instead of from rows that also carry the manifest.

Revision ID: 0005_resource_access_index
Revises: 0004_enrolment
"""

from __future__ import annotations

from alembic import op

revision = "0005_resource_access_index"
down_revision = "0004_enrolment"
branch_labels = None
depends_on = None

ACCESS_FILTER_COLUMNS = [
    "creation_ts",
    "resource_id",
    "label_ok",
    "label_ok_strict",
    "integrity_ok",
    "classification_rank",
    "coi_count",
    "coi_operator",
    "has_us_only",
    "releasable_to_industry",
]


# Migrations only go forward (spec/orchestration.md §5.1: never downgrade).
def upgrade() -> None:
    op.create_index("ix_resources_access_filter", "resources", ACCESS_FILTER_COLUMNS, unique=False)
