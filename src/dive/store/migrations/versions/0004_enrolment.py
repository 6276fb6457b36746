"""Single-use enrolment tokens of remote spokes (orchestration Amendment A1; CONSISTENCY #13).

Revision ID: 0004_enrolment
Revises: 0003_orchestration
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_enrolment"
down_revision = "0003_orchestration"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# Migrations only go forward (spec/orchestration.md §5.1: never downgrade).
def upgrade() -> None:
    op.create_table(
        "enrolment_tokens",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(code) = 3 AND code = lower(code)", name=op.f("ck_enrolment_tokens_code_lower3")),
        sa.CheckConstraint("expires_at > issued_at", name=op.f("ck_enrolment_tokens_expiry_after_issue")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrolment_tokens_token_hash")),
    )
    op.create_index(op.f("ix_enrolment_tokens_code"), "enrolment_tokens", ["code"], unique=False)
