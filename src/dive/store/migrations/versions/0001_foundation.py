"""Foundation: the federation registry, KAS registry, resources and decision log.

Creates every table explicitly (spec/orchestration.md §5.3, ztdf-kas.md §9.1, abac.md §9.2, identity-api-ui.md §B.8)
and seeds the COI registry from `dive.domain.coi` (abac §5.1, CONSISTENCY #8) with `registry_version = 0`.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dive.domain.coi import COI_MEMBERS

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

# The portable types of §5.1, spelled out here so this revision never changes when the models do.
UTC_TIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# Migrations only go forward (spec/orchestration.md §5.1: never downgrade).
def upgrade() -> None:
    coi_registry = op.create_table(
        "coi_registry",
        sa.Column("coi", sa.String(length=64), nullable=False),
        sa.Column("members", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("coi", name=op.f("pk_coi_registry")),
    )
    op.create_table(
        "decision_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("path", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("instance", sa.String(length=8), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("policy_revision", sa.String(length=128), nullable=True),
        sa.Column("operation", sa.String(length=16), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("resource_id", sa.String(length=128), nullable=True),
        sa.Column("resource_instance", sa.String(length=8), nullable=True),
        sa.Column("allow", sa.Boolean(), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("labels", JSON_DOCUMENT, nullable=False),
        sa.Column("input", JSON_DOCUMENT, nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=False),
        sa.Column("metrics", JSON_DOCUMENT, nullable=True),
        sa.Column("kas", JSON_DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_log")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_decision_log_decision_id")),
    )
    op.create_index("ix_decision_log_resource_id", "decision_log", ["resource_id", "timestamp"], unique=False)
    op.create_index("ix_decision_log_subject", "decision_log", ["subject", "timestamp"], unique=False)
    op.create_index("ix_decision_log_timestamp", "decision_log", ["timestamp", "id"], unique=False)
    op.create_table(
        "federation_links",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_code", sa.String(length=3), nullable=False),
        sa.Column("target_code", sa.String(length=3), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("idp_alias", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("last_verified_at", UTC_TIME, nullable=True),
        sa.Column("last_result", JSON_DOCUMENT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "direction IN ('spoke_to_hub', 'hub_to_spoke', 'spoke_to_spoke')",
            name=op.f("ck_federation_links_direction_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'ACTIVE', 'FAILED', 'DISABLED')", name=op.f("ck_federation_links_status_allowed")
        ),
        sa.CheckConstraint(
            "length(source_code) = 3 AND source_code = lower(source_code)",
            name=op.f("ck_federation_links_source_code_lower3"),
        ),
        sa.CheckConstraint(
            "length(target_code) = 3 AND target_code = lower(target_code)",
            name=op.f("ck_federation_links_target_code_lower3"),
        ),
        sa.CheckConstraint("source_code <> target_code", name=op.f("ck_federation_links_distinct_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_links")),
        sa.UniqueConstraint("source_code", "target_code", name=op.f("uq_federation_links_source_code_target_code")),
    )
    op.create_table(
        "federation_matrix",
        sa.Column("owner_code", sa.String(length=3), nullable=False),
        sa.Column("partner_code", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "source IN ('approval', 'legacy_import', 'cli')", name=op.f("ck_federation_matrix_source_allowed")
        ),
        sa.CheckConstraint(
            "length(owner_code) = 3 AND owner_code = lower(owner_code)",
            name=op.f("ck_federation_matrix_owner_code_lower3"),
        ),
        sa.CheckConstraint(
            "length(partner_code) = 3 AND partner_code = lower(partner_code)",
            name=op.f("ck_federation_matrix_partner_code_lower3"),
        ),
        sa.CheckConstraint("owner_code <> partner_code", name=op.f("ck_federation_matrix_distinct_codes")),
        sa.PrimaryKeyConstraint("owner_code", "partner_code", name=op.f("pk_federation_matrix")),
    )
    op.create_table(
        "federation_spokes",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("spoke_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("trust_level", sa.String(length=16), nullable=True),
        sa.Column("max_classification", sa.String(length=16), nullable=True),
        sa.Column("api_url", sa.String(length=255), nullable=False),
        sa.Column("web_url", sa.String(length=255), nullable=False),
        sa.Column("idp_url", sa.String(length=255), nullable=False),
        sa.Column("kas_url", sa.String(length=255), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("jwks_uri", sa.String(length=255), nullable=True),
        sa.Column("ca_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("ca_bundle_pem", sa.Text(), nullable=True),
        sa.Column("allowed_clients", JSON_DOCUMENT, nullable=True),
        sa.Column("spoke_token_hash", sa.String(length=64), nullable=True),
        sa.Column("spoke_token_expires_at", UTC_TIME, nullable=True),
        sa.Column("registered_at", UTC_TIME, nullable=False),
        sa.Column("approved_at", UTC_TIME, nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("suspended_reason", sa.Text(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("last_heartbeat", UTC_TIME, nullable=True),
        sa.Column("heartbeat_interval_s", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("link_status", sa.String(length=8), nullable=False),
        sa.Column("link_error", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("metadata", JSON_DOCUMENT, nullable=True),
        sa.CheckConstraint("kind IN ('local', 'remote')", name=op.f("ck_federation_spokes_kind_allowed")),
        sa.CheckConstraint(
            "link_status IN ('pending', 'active', 'failed')", name=op.f("ck_federation_spokes_link_status_allowed")
        ),
        sa.CheckConstraint(
            "max_classification IS NULL OR max_classification IN "
            "('UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET', 'TOP_SECRET')",
            name=op.f("ck_federation_spokes_max_classification_allowed"),
        ),
        sa.CheckConstraint("role IN ('hub', 'spoke')", name=op.f("ck_federation_spokes_role_allowed")),
        sa.CheckConstraint(
            "source IN ('registration', 'legacy_import', 'cli')", name=op.f("ck_federation_spokes_source_allowed")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'suspended', 'revoked')",
            name=op.f("ck_federation_spokes_status_allowed"),
        ),
        sa.CheckConstraint(
            "trust_level IS NULL OR trust_level IN ('development', 'partner', 'bilateral', 'national')",
            name=op.f("ck_federation_spokes_trust_level_allowed"),
        ),
        sa.CheckConstraint("length(code) = 3 AND code = lower(code)", name=op.f("ck_federation_spokes_code_lower3")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_federation_spokes")),
        sa.UniqueConstraint("issuer", name=op.f("uq_federation_spokes_issuer")),
        sa.UniqueConstraint("spoke_id", name=op.f("uq_federation_spokes_spoke_id")),
    )
    op.create_table(
        "kas_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("secret_ref", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("activated_at", UTC_TIME, nullable=True),
        sa.Column("retired_at", UTC_TIME, nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.CheckConstraint("status IN ('active', 'retired', 'revoked')", name=op.f("ck_kas_keys_status_allowed")),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_kas_keys")),
    )
    op.create_index(
        "ix_kas_keys_one_active",
        "kas_keys",
        ["algorithm"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "kas_registry",
        sa.Column("kas_id", sa.String(length=32), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.Column("internal_url", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("auth_mode", sa.String(length=16), nullable=False),
        sa.Column("ca_bundle_pem", sa.Text(), nullable=True),
        sa.Column("registered_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("last_verified_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "auth_mode IN ('bearer', 'mtls', 'service_token')", name=op.f("ck_kas_registry_auth_mode_allowed")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'suspended')", name=op.f("ck_kas_registry_status_allowed")
        ),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_kas_registry_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("kas_id", name=op.f("pk_kas_registry")),
    )
    op.create_index(
        "ix_kas_registry_one_local",
        "kas_registry",
        ["is_local"],
        unique=True,
        sqlite_where=sa.text("is_local"),
        postgresql_where=sa.text("is_local"),
    )
    op.create_table(
        "registry_imports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_version", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("retired_path", sa.Text(), nullable=True),
        sa.Column("counts", JSON_DOCUMENT, nullable=True),
        sa.Column("warnings", JSON_DOCUMENT, nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('importing', 'imported', 'retiring', 'retired', 'failed')",
            name=op.f("ck_registry_imports_status_allowed"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_imports")),
    )
    registry_meta = op.create_table(
        "registry_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_registry_meta")),
    )
    op.create_table(
        "resources",
        sa.Column("pk", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("classification", sa.String(length=64), nullable=False),
        sa.Column("display_marking", sa.Text(), nullable=True),
        sa.Column("label", JSON_DOCUMENT, nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("file_type", sa.String(length=16), nullable=True),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("kao_count", sa.Integer(), nullable=False),
        sa.Column("kas_urls", JSON_DOCUMENT, nullable=True),
        sa.Column("manifest", JSON_DOCUMENT, nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("classification_rank", sa.Integer(), nullable=True),
        sa.Column("coi_count", sa.Integer(), nullable=False),
        sa.Column("coi_operator", sa.Text(), nullable=False),
        sa.Column("has_us_only", sa.Boolean(), nullable=False),
        sa.Column("creation_ts", UTC_TIME, nullable=True),
        sa.Column("releasable_to_industry", sa.Boolean(), nullable=False),
        sa.Column("label_ok", sa.Boolean(), nullable=False),
        sa.Column("label_ok_strict", sa.Boolean(), nullable=False),
        sa.Column("integrity_ok", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_resources_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_resources")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_resources_resource_id")),
    )
    op.create_index("ix_resources_creation_order", "resources", ["creation_ts", "resource_id"], unique=False)
    op.create_index(op.f("ix_resources_instance_code"), "resources", ["instance_code"], unique=False)
    op.create_table(
        "tenant_settings",
        sa.Column("instance_code", sa.String(length=3), nullable=False),
        sa.Column("settings", JSON_DOCUMENT, nullable=False),
        sa.CheckConstraint(
            "length(instance_code) = 3 AND instance_code = lower(instance_code)",
            name=op.f("ck_tenant_settings_instance_code_lower3"),
        ),
        sa.PrimaryKeyConstraint("instance_code", name=op.f("pk_tenant_settings")),
    )
    op.create_table(
        "kas_registry_keys",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kas_id", sa.String(length=32), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'retired', 'revoked')", name=op.f("ck_kas_registry_keys_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["kas_id"],
            ["kas_registry.kas_id"],
            name=op.f("fk_kas_registry_keys_kas_id_kas_registry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kas_registry_keys")),
        sa.UniqueConstraint("kas_id", "kid", name=op.f("uq_kas_registry_keys_kas_id_kid")),
    )
    op.create_index(
        "ix_kas_registry_keys_one_active",
        "kas_registry_keys",
        ["kas_id", "algorithm"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "resource_coi",
        sa.Column("resource_pk", BIG_ID, nullable=False),
        sa.Column("coi", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"], ["resources.pk"], name=op.f("fk_resource_coi_resource_pk_resources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("resource_pk", "coi", name=op.f("pk_resource_coi")),
    )
    op.create_index("ix_resource_coi_coi", "resource_coi", ["coi", "resource_pk"], unique=False)
    op.create_table(
        "resource_payloads",
        sa.Column("resource_pk", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resources.pk"],
            name=op.f("fk_resource_payloads_resource_pk_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_pk", name=op.f("pk_resource_payloads")),
    )
    op.create_table(
        "resource_releasability",
        sa.Column("resource_pk", BIG_ID, nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resources.pk"],
            name=op.f("fk_resource_releasability_resource_pk_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_pk", "country", name=op.f("pk_resource_releasability")),
    )
    op.create_index(
        "ix_resource_releasability_country", "resource_releasability", ["country", "resource_pk"], unique=False
    )
    _seed(coi_registry, registry_meta)


def _seed(coi_registry: sa.Table, registry_meta: sa.Table) -> None:
    op.bulk_insert(coi_registry, [{"coi": coi, "members": list(members)} for coi, members in COI_MEMBERS.items()])
    op.bulk_insert(registry_meta, [{"key": "registry_version", "value": "0"}])
