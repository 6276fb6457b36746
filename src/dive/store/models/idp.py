"""Tables of the identity provider (identity-api-ui §A). Keycloak representations are kept as JSON so unknown
fields round-trip (§A.9); the columns the provider queries on are real columns. Secrets are sealed
(AES-256-GCM with the data-protection key) before they reach a row; codes are stored as SHA-256 only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import BIG_ID, JSON_DOCUMENT, Base, UtcDateTime

__all__ = [
    "IdpAuthCode",
    "IdpAuthSession",
    "IdpBrokerState",
    "IdpBruteForce",
    "IdpClient",
    "IdpCredential",
    "IdpEvent",
    "IdpFederatedIdentity",
    "IdpIdentityProvider",
    "IdpMapper",
    "IdpRealm",
    "IdpRefreshToken",
    "IdpRole",
    "IdpSigningKey",
    "IdpSsoSession",
    "IdpUser",
    "IdpUserRole",
    "Revocation",
]

_REALM_FK = "idp_realms.id"
_USER_FK = "idp_users.id"


class IdpRealm(Base):
    __tablename__ = "idp_realms"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    representation: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdpUser(Base):
    __tablename__ = "idp_users"
    __table_args__ = (
        UniqueConstraint("realm_id", "username"),
        Index("ix_idp_users_realm_email", "realm_id", "email"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    required_actions: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    service_account_client_id: Mapped[str | None] = mapped_column(String(36))


class IdpCredential(Base):
    __tablename__ = "idp_credentials"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # password | password-history | otp
    secret_data: Mapped[str] = mapped_column(Text)  # PHC hash, or the sealed TOTP secret
    credential_data: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class IdpRole(Base):
    __tablename__ = "idp_roles"
    __table_args__ = (UniqueConstraint("realm_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)


class IdpUserRole(Base):
    __tablename__ = "idp_user_roles"
    user_id: Mapped[str] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("idp_roles.id", ondelete="CASCADE"), primary_key=True)


class IdpClient(Base):
    __tablename__ = "idp_clients"
    __table_args__ = (UniqueConstraint("realm_id", "client_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    representation: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    visible_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdpIdentityProvider(Base):
    __tablename__ = "idp_identity_providers"
    __table_args__ = (UniqueConstraint("realm_id", "alias"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(64))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    representation: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    visible_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdpMapper(Base):
    __tablename__ = "idp_mappers"
    __table_args__ = (Index("ix_idp_mappers_realm_alias", "realm_id", "alias"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    representation: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)


class IdpFederatedIdentity(Base):
    __tablename__ = "idp_federated_identities"
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    upstream_sub: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), index=True)
    upstream_username: Mapped[str | None] = mapped_column(String(255))


class IdpSigningKey(Base):
    __tablename__ = "idp_signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8))
    private_sealed: Mapped[str] = mapped_column(Text)
    hs512_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    passive_since: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdpSsoSession(Base):
    __tablename__ = "idp_sso_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    acr: Mapped[str] = mapped_column(String(2))
    amr: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    identity_provider: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdpAuthCode(Base):
    __tablename__ = "idp_auth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255))
    redirect_uri: Mapped[str] = mapped_column(Text)
    session_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdpRefreshToken(Base):
    __tablename__ = "idp_refresh_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Revocation(Base):
    """The revocation list of §A.3 (`revocations`), read by every token verifier of the instance."""

    __tablename__ = "revocations"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # jti | sid
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class IdpAuthSession(Base):
    __tablename__ = "idp_auth_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    csrf: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdpBruteForce(Base):
    __tablename__ = "idp_brute_force"
    user_id: Mapped[str] = mapped_column(ForeignKey(_USER_FK, ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locks: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_failure: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_ip: Mapped[str | None] = mapped_column(String(64))


class IdpEvent(Base):
    __tablename__ = "idp_events"
    __table_args__ = (Index("ix_idp_events_realm_time", "realm_id", "time_ms"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    realm_id: Mapped[str] = mapped_column(String(36))
    time_ms: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)


class IdpBrokerState(Base):
    __tablename__ = "idp_broker_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm_id: Mapped[str] = mapped_column(ForeignKey(_REALM_FK, ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(64))
    auth_session_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
