"""Federation registry tables (spec/orchestration.md §5.3; CONSISTENCY #8 adds `coi_registry` and `tenant_settings`).

Codes are stored in lower case (`fra`); whatever the policy or an API sees is upper-cased on the way out
(CONSISTENCY #10). Every change to these tables, and to the KAS registry, bumps `registry_meta.registry_version`
in the same transaction: use `dive.store.registry`, never write them directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import (
    BIG_ID,
    JSON_DOCUMENT,
    Base,
    UtcDateTime,
    lower_code_check,
    one_of_check,
    utc_now,
)
from dive.types import LEVELS

__all__ = [
    "LEGACY_IMPORT_KEY",
    "REGISTRY_VERSION_KEY",
    "CoiRegistryEntry",
    "FederationLink",
    "FederationMatrixEntry",
    "FederationSpoke",
    "RegistryImport",
    "RegistryMeta",
    "TenantSetting",
]

REGISTRY_VERSION_KEY: Final = "registry_version"
LEGACY_IMPORT_KEY: Final = "legacy_import"


class FederationSpoke(Base):
    """One partner record (identity-api-ui §B.7 in snake_case): the spokes on the hub, the hub on a spoke."""

    __tablename__ = "federation_spokes"
    __table_args__ = (
        lower_code_check("code"),
        one_of_check("role", ("hub", "spoke")),
        one_of_check("kind", ("local", "remote")),
        one_of_check("status", ("pending", "approved", "suspended", "revoked")),
        one_of_check("trust_level", ("development", "partner", "bilateral", "national"), nullable=True),
        one_of_check("max_classification", LEVELS, nullable=True),
        one_of_check("link_status", ("pending", "active", "failed")),
        one_of_check("source", ("registration", "legacy_import", "cli")),
    )

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    spoke_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    trust_level: Mapped[str | None] = mapped_column(String(16))  # declared only (CONSISTENCY #16)
    max_classification: Mapped[str | None] = mapped_column(String(16))
    api_url: Mapped[str] = mapped_column(String(255))
    web_url: Mapped[str] = mapped_column(String(255))
    idp_url: Mapped[str] = mapped_column(String(255))
    kas_url: Mapped[str] = mapped_column(String(255))
    issuer: Mapped[str] = mapped_column(String(255), unique=True)
    jwks_uri: Mapped[str | None] = mapped_column(String(255))
    ca_fingerprint: Mapped[str | None] = mapped_column(String(64))
    ca_bundle_pem: Mapped[str | None] = mapped_column(Text)
    allowed_clients: Mapped[list[str] | None] = mapped_column(JSON_DOCUMENT)
    spoke_token_hash: Mapped[str | None] = mapped_column(String(64))
    spoke_token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    last_heartbeat: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_interval_s: Mapped[int] = mapped_column(Integer, default=30)
    version: Mapped[str | None] = mapped_column(String(32))
    link_status: Mapped[str] = mapped_column(String(8), default="pending")
    link_error: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="registration")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON_DOCUMENT)


class FederationLink(Base):
    """One direction of an identity-provider link (orchestration §8.3): `source`'s users sign in at `target`."""

    __tablename__ = "federation_links"
    __table_args__ = (
        UniqueConstraint("source_code", "target_code"),
        CheckConstraint("source_code <> target_code", name="distinct_codes"),
        lower_code_check("source_code"),
        lower_code_check("target_code"),
        one_of_check("direction", ("spoke_to_hub", "hub_to_spoke", "spoke_to_spoke")),
        one_of_check("status", ("PENDING", "ACTIVE", "FAILED", "DISABLED")),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    source_code: Mapped[str] = mapped_column(String(3))
    target_code: Mapped[str] = mapped_column(String(3))
    direction: Mapped[str] = mapped_column(String(16))
    idp_alias: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    last_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_result: Mapped[dict[str, str] | None] = mapped_column(JSON_DOCUMENT)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class FederationMatrixEntry(Base):
    """Row (A, B) means B ∈ `data.dive.federation.matrix[A]`: A's users may access B's resources (CONSISTENCY #9)."""

    __tablename__ = "federation_matrix"
    __table_args__ = (
        CheckConstraint("owner_code <> partner_code", name="distinct_codes"),
        lower_code_check("owner_code"),
        lower_code_check("partner_code"),
        one_of_check("source", ("approval", "legacy_import", "cli")),
    )

    owner_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class RegistryMeta(Base):
    """Key/value facts about the registry: `registry_version` (an integer as text) and `legacy_import`."""

    __tablename__ = "registry_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class RegistryImport(Base):
    """One import of a legacy registry file (orchestration §8.7)."""

    __tablename__ = "registry_imports"
    __table_args__ = (one_of_check("status", ("importing", "imported", "retiring", "retired", "failed")),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_version: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    retired_path: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON_DOCUMENT)
    warnings: Mapped[list[str] | None] = mapped_column(JSON_DOCUMENT)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class CoiRegistryEntry(Base):
    """A community of interest and its member countries (abac §5.1), published as `data.dive.coi.members`."""

    __tablename__ = "coi_registry"

    coi: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)


class TenantSetting(Base):
    """Per-instance policy settings (abac §5.4); no row means the defaults."""

    __tablename__ = "tenant_settings"
    __table_args__ = (lower_code_check("instance_code"),)

    instance_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
