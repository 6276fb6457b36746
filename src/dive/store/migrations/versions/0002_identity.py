"""Identity provider tables (identity-api-ui §A): realms, users, credentials, roles, clients, identity providers,
mappers, links, signing keys, sessions, codes, refresh tokens, the revocation list, brute force, events.

Revision ID: 0002_identity
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_identity"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# Migrations only go forward (spec/orchestration.md §5.1: never downgrade).
def upgrade() -> None:
    op.create_table(
        "idp_events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_events")),
    )
    op.create_index("ix_idp_events_realm_time", "idp_events", ["realm_id", "time_ms"], unique=False)
    op.create_table(
        "idp_realms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("representation", _JSON, nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_realms")),
        sa.UniqueConstraint("name", name=op.f("uq_idp_realms_name")),
    )
    op.create_table(
        "idp_refresh_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_idp_refresh_tokens")),
    )
    op.create_index(op.f("ix_idp_refresh_tokens_session_id"), "idp_refresh_tokens", ["session_id"], unique=False)
    op.create_table(
        "revocations",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_revocations")),
    )
    op.create_index(op.f("ix_revocations_expires_at"), "revocations", ["expires_at"], unique=False)
    op.create_table(
        "idp_auth_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_auth_codes_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_idp_auth_codes")),
    )
    op.create_table(
        "idp_auth_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_auth_sessions_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_auth_sessions")),
    )
    op.create_table(
        "idp_broker_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("auth_session_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_broker_states_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_idp_broker_states")),
    )
    op.create_table(
        "idp_clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column("representation", _JSON, nullable=False),
        sa.Column("visible_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_clients_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_clients")),
        sa.UniqueConstraint("realm_id", "client_id", name=op.f("uq_idp_clients_realm_id_client_id")),
    )
    op.create_table(
        "idp_identity_providers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column("representation", _JSON, nullable=False),
        sa.Column("visible_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["idp_realms.id"],
            name=op.f("fk_idp_identity_providers_realm_id_idp_realms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_identity_providers")),
        sa.UniqueConstraint("realm_id", "alias", name=op.f("uq_idp_identity_providers_realm_id_alias")),
    )
    op.create_table(
        "idp_mappers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("representation", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_mappers_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_mappers")),
    )
    op.create_index("ix_idp_mappers_realm_alias", "idp_mappers", ["realm_id", "alias"], unique=False)
    op.create_table(
        "idp_roles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_roles_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_roles")),
        sa.UniqueConstraint("realm_id", "name", name=op.f("uq_idp_roles_realm_id_name")),
    )
    op.create_table(
        "idp_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("private_sealed", sa.Text(), nullable=False),
        sa.Column("hs512_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passive_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_signing_keys_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_idp_signing_keys")),
    )
    op.create_index(op.f("ix_idp_signing_keys_realm_id"), "idp_signing_keys", ["realm_id"], unique=False)
    op.create_table(
        "idp_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("attributes", _JSON, nullable=False),
        sa.Column("required_actions", _JSON, nullable=False),
        sa.Column("extra", _JSON, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("service_account_client_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_users_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_users")),
        sa.UniqueConstraint("realm_id", "username", name=op.f("uq_idp_users_realm_id_username")),
    )
    op.create_index("ix_idp_users_realm_email", "idp_users", ["realm_id", "email"], unique=False)
    op.create_table(
        "idp_brute_force",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["idp_users.id"], name=op.f("fk_idp_brute_force_user_id_idp_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_idp_brute_force")),
    )
    op.create_table(
        "idp_credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("secret_data", sa.Text(), nullable=False),
        sa.Column("credential_data", _JSON, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["idp_users.id"], name=op.f("fk_idp_credentials_user_id_idp_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_credentials")),
    )
    op.create_index(op.f("ix_idp_credentials_user_id"), "idp_credentials", ["user_id"], unique=False)
    op.create_table(
        "idp_federated_identities",
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("upstream_sub", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("upstream_username", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["idp_realms.id"],
            name=op.f("fk_idp_federated_identities_realm_id_idp_realms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["idp_users.id"],
            name=op.f("fk_idp_federated_identities_user_id_idp_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("realm_id", "alias", "upstream_sub", name=op.f("pk_idp_federated_identities")),
    )
    op.create_index(op.f("ix_idp_federated_identities_user_id"), "idp_federated_identities", ["user_id"], unique=False)
    op.create_table(
        "idp_sso_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("realm_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("acr", sa.String(length=2), nullable=False),
        sa.Column("amr", _JSON, nullable=False),
        sa.Column("identity_provider", sa.String(length=64), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"], ["idp_realms.id"], name=op.f("fk_idp_sso_sessions_realm_id_idp_realms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["idp_users.id"], name=op.f("fk_idp_sso_sessions_user_id_idp_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_sso_sessions")),
    )
    op.create_index(op.f("ix_idp_sso_sessions_realm_id"), "idp_sso_sessions", ["realm_id"], unique=False)
    op.create_index(op.f("ix_idp_sso_sessions_user_id"), "idp_sso_sessions", ["user_id"], unique=False)
    op.create_table(
        "idp_user_roles",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["idp_roles.id"], name=op.f("fk_idp_user_roles_role_id_idp_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["idp_users.id"], name=op.f("fk_idp_user_roles_user_id_idp_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_idp_user_roles")),
    )
