"""KAS registry and local key metadata (spec/ztdf-kas.md §9.1, §10; CONSISTENCY #14, #19).

`kas_registry.url` is the only KAS URL writers, clients and the allow-list use. `ca_bundle_pem` stays NULL
(CONSISTENCY #19). Changes to `kas_registry*` bump `registry_version` like the federation tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import BIG_ID, Base, UtcDateTime, lower_code_check, one_of_check, utc_now

__all__ = ["KAS_KEY_STATUSES", "KasKey", "KasRegistryEntry", "KasRegistryKey"]

KAS_KEY_STATUSES = ("active", "retired", "revoked")


class KasRegistryEntry(Base):
    """One KAS of the federation; `is_local` marks this instance's own KAS (at most one row)."""

    __tablename__ = "kas_registry"
    __table_args__ = (
        lower_code_check("instance_code"),
        one_of_check("status", ("pending", "approved", "suspended")),
        one_of_check("auth_mode", ("bearer", "mtls", "service_token")),
        Index(
            "ix_kas_registry_one_local",
            "is_local",
            unique=True,
            sqlite_where=text("is_local"),
            postgresql_where=text("is_local"),
        ),
    )

    kas_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # `<c>-kas`
    instance_code: Mapped[str] = mapped_column(String(3))
    url: Mapped[str] = mapped_column(String(255))
    internal_url: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_mode: Mapped[str] = mapped_column(String(16), default="bearer")
    ca_bundle_pem: Mapped[str | None] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
    last_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class KasRegistryKey(Base):
    """A public key of a registered KAS; at most one `active` key per (KAS, algorithm)."""

    __tablename__ = "kas_registry_keys"
    __table_args__ = (
        UniqueConstraint("kas_id", "kid"),
        one_of_check("status", KAS_KEY_STATUSES),
        Index(
            "ix_kas_registry_keys_one_active",
            "kas_id",
            "algorithm",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    kas_id: Mapped[str] = mapped_column(String(32), ForeignKey("kas_registry.kas_id", ondelete="CASCADE"))
    kid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(16), default="rsa:2048")
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the SPKI DER
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class KasKey(Base):
    """Metadata of one of this instance's KAS private keys; the sealed key itself lives with the secrets provider."""

    __tablename__ = "kas_keys"
    __table_args__ = (
        one_of_check("status", KAS_KEY_STATUSES),
        Index(
            "ix_kas_keys_one_active",
            "algorithm",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # `<c>-rsa-<n>`
    algorithm: Mapped[str] = mapped_column(String(16), default="rsa:2048")
    status: Mapped[str] = mapped_column(String(8))
    secret_ref: Mapped[str] = mapped_column(String(255))  # `kas/<c>/keys/<kid>`
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
