"""Resources (ZTDF documents) with their label denormalised for the search pushdown (spec/abac.md §9.2; CONSISTENCY #5).

`label` keeps the security label verbatim in abac §1.2 names (the PDP input is rebuilt from it exactly); the columns
below it are derived from that label by `dive.domain` and exist only so that §9.3's predicate runs in SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dive.store.models.base import BIG_ID, JSON_DOCUMENT, Base, UtcDateTime, lower_code_check, utc_now

__all__ = ["Resource", "ResourceCoi", "ResourcePayload", "ResourceReleasability"]


class Resource(Base):
    __tablename__ = "resources"
    __table_args__ = (
        lower_code_check("instance_code"),
        Index("ix_resources_creation_order", "creation_ts", "resource_id"),
        # Covers the §9.3 predicate in page order, so listing never reads rows that carry the manifest (migration 0005).
        Index(
            "ix_resources_access_filter",
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
        ),
    )

    pk: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(128), unique=True)  # `doc-<INST>-…`
    instance_code: Mapped[str] = mapped_column(String(3), index=True)  # owner instance
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(64))  # as on the label (may be invalid)
    display_marking: Mapped[str | None] = mapped_column(Text)
    label: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=True)
    file_type: Mapped[str | None] = mapped_column(String(16))
    mime_type: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    kao_count: Mapped[int] = mapped_column(Integer, default=0)
    kas_urls: Mapped[list[str] | None] = mapped_column(JSON_DOCUMENT)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)  # parsed copy of the ZTDF manifest
    created_by: Mapped[str | None] = mapped_column(String(255))  # uploader's uniqueID
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)

    # abac §9.2, derived from `label`
    classification_rank: Mapped[int | None] = mapped_column(Integer)  # 0–4; NULL for an invalid classification
    coi_count: Mapped[int] = mapped_column(Integer)
    coi_operator: Mapped[str] = mapped_column(Text)  # trimmed, upper-cased, `ALL` when absent; may be invalid
    has_us_only: Mapped[bool] = mapped_column(Boolean)
    creation_ts: Mapped[datetime | None] = mapped_column(UtcDateTime)
    releasable_to_industry: Mapped[bool] = mapped_column(Boolean)
    label_ok: Mapped[bool] = mapped_column(Boolean)
    label_ok_strict: Mapped[bool] = mapped_column(Boolean)
    integrity_ok: Mapped[bool] = mapped_column(Boolean)

    payload: Mapped[ResourcePayload | None] = relationship(
        back_populates="resource", cascade="all, delete-orphan", passive_deletes=True, lazy="select"
    )


class ResourcePayload(Base):
    """The ZTDF archive exactly as written (ztdf-kas §2.1), kept apart so that searches never read it."""

    __tablename__ = "resource_payloads"

    resource_pk: Mapped[int] = mapped_column(
        BIG_ID, ForeignKey("resources.pk", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    archive: Mapped[bytes] = mapped_column(LargeBinary)

    resource: Mapped[Resource] = relationship(back_populates="payload")


class ResourceReleasability(Base):
    __tablename__ = "resource_releasability"
    __table_args__ = (Index("ix_resource_releasability_country", "country", "resource_pk"),)

    resource_pk: Mapped[int] = mapped_column(BIG_ID, ForeignKey("resources.pk", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(Text, primary_key=True)


class ResourceCoi(Base):
    __tablename__ = "resource_coi"
    __table_args__ = (Index("ix_resource_coi_coi", "coi", "resource_pk"),)

    resource_pk: Mapped[int] = mapped_column(BIG_ID, ForeignKey("resources.pk", ondelete="CASCADE"), primary_key=True)
    coi: Mapped[str] = mapped_column(Text, primary_key=True)
