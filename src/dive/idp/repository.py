"""Repository of the directory objects (realms, users, credentials, roles, clients, identity providers,
mappers, links, signing keys) over the store's SQLAlchemy models. Rows become the plain types of
`dive.idp.model`; secrets are sealed with the data-protection key before they are written."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from dive.idp.database import IdpDatabase
from dive.idp.errors import AdminApiError
from dive.idp.keys import SigningKey
from dive.idp.model import Client, Realm, User
from dive.idp.protection import DataProtector
from dive.store.models.idp import (
    IdpClient,
    IdpCredential,
    IdpFederatedIdentity,
    IdpIdentityProvider,
    IdpMapper,
    IdpRealm,
    IdpRole,
    IdpSigningKey,
    IdpUser,
    IdpUserRole,
)

__all__ = ["Directory", "IdentityProvider", "OtpCredential", "UserQuery", "new_id"]


def new_id() -> str:
    return str(uuid.uuid4())


def _conflict(message: str) -> AdminApiError:
    return AdminApiError(409, {"errorMessage": message}, code="conflict")


@dataclass(frozen=True, kw_only=True)
class IdentityProvider:
    alias: str
    secret: str | None
    representation: Mapping[str, Any]

    def config(self, name: str) -> str | None:
        value = (self.representation.get("config") or {}).get(name)
        return None if value is None else str(value)

    @property
    def enabled(self) -> bool:
        return bool(self.representation.get("enabled", True))


@dataclass(frozen=True, kw_only=True)
class OtpCredential:
    id: str
    secret: str
    last_used_step: int | None


@dataclass(frozen=True, kw_only=True)
class UserQuery:
    search: str | None = None
    username: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    exact: bool = False
    enabled: bool | None = None
    attributes: Mapping[str, str] | None = None


class Directory:
    def __init__(self, db: IdpDatabase, protector: DataProtector) -> None:
        self._db = db
        self._protector = protector

    # --- realms -------------------------------------------------------------------------------------------------
    def create_realm(self, name: str, representation: Mapping[str, Any], now: datetime) -> Realm:
        row = IdpRealm(id=new_id(), name=name, representation=dict(representation), config_version=1, created_at=now)
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError as exc:  # python-keycloak compares this body literally (§A.9)
            raise AdminApiError(409, {"errorMessage": "Conflict detected. See logs for details"}, "conflict") from exc
        return _realm(row)

    def realm(self, name: str) -> Realm | None:
        with self._db.read() as s:
            row = s.scalar(select(IdpRealm).where(IdpRealm.name == name))
            return _realm(row) if row else None

    def realms(self) -> list[Realm]:
        with self._db.read() as s:
            return [_realm(r) for r in s.scalars(select(IdpRealm).order_by(IdpRealm.name))]

    def update_realm(self, realm: Realm, representation: Mapping[str, Any]) -> None:
        with self._db.write() as s:
            s.execute(
                update(IdpRealm)
                .where(IdpRealm.id == realm.id)
                .values(representation=dict(representation), config_version=IdpRealm.config_version + 1)
            )

    def delete_realm(self, realm: Realm) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpRealm).where(IdpRealm.id == realm.id))

    # --- users --------------------------------------------------------------------------------------------------
    def create_user(self, user: User, *, service_account_of: str | None = None) -> User:
        row = IdpUser(
            id=user.id,
            realm_id=user.realm_id,
            username=user.username.lower(),
            created_ms=user.created_ms,
            service_account_client_id=service_account_of,
        )
        _fill_user(row, user)
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError as exc:
            raise _conflict("User exists with same username") from exc
        return _user(row)

    def update_user(self, user: User) -> None:
        with self._db.write() as s:
            row = s.get(IdpUser, user.id)
            if row is None:
                raise AdminApiError(404, {"error": "User not found"}, "not_found")
            _fill_user(row, user)

    def delete_user(self, user_id: str) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpUser).where(IdpUser.id == user_id))

    def user(self, realm_id: str, user_id: str) -> User | None:
        with self._db.read() as s:
            row = s.get(IdpUser, user_id)
            return _user(row) if row and row.realm_id == realm_id else None

    def user_by_username(self, realm_id: str, username: str) -> User | None:
        with self._db.read() as s:
            row = s.scalar(select(IdpUser).where(IdpUser.realm_id == realm_id, IdpUser.username == username.lower()))
            return _user(row) if row else None

    def user_by_login(self, realm_id: str, login: str) -> User | None:
        """Username, or e-mail when no user has that username (Keycloak's default login)."""
        found = self.user_by_username(realm_id, login)
        if found is not None or "@" not in login:
            return found
        with self._db.read() as s:
            rows = list(s.scalars(select(IdpUser).where(IdpUser.realm_id == realm_id, IdpUser.email == login)))
            return _user(rows[0]) if len(rows) == 1 else None

    def service_account(self, realm_id: str, client_row_id: str) -> User | None:
        with self._db.read() as s:
            row = s.scalar(
                select(IdpUser).where(IdpUser.realm_id == realm_id, IdpUser.service_account_client_id == client_row_id)
            )
            return _user(row) if row else None

    def search_users(self, realm_id: str, query: UserQuery, *, first: int, limit: int) -> list[User]:
        stmt = _user_filter(select(IdpUser), realm_id, query).order_by(IdpUser.username)
        if not query.attributes:  # attribute values live in JSON: filter in Python, then page
            stmt = stmt.offset(first).limit(limit)
        with self._db.read() as s:
            users = [_user(r) for r in s.scalars(stmt)]
        if query.attributes:
            users = [u for u in users if _has_attributes(u, query.attributes)][first : first + limit]
        return users

    def count_users(self, realm_id: str, query: UserQuery) -> int:
        with self._db.read() as s:
            return int(s.scalar(_user_filter(select(func.count(IdpUser.id)), realm_id, query)) or 0)

    # --- credentials --------------------------------------------------------------------------------------------
    def password_hash(self, user_id: str) -> str | None:
        with self._db.read() as s:
            row = s.scalar(
                select(IdpCredential).where(IdpCredential.user_id == user_id, IdpCredential.type == "password")
            )
            return row.secret_data if row else None

    def password_history(self, user_id: str) -> list[str]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpCredential)
                .where(IdpCredential.user_id == user_id, IdpCredential.type.in_(("password", "password-history")))
                .order_by(IdpCredential.created_ms.desc())
            )
            return [r.secret_data for r in rows]

    def set_password(self, user_id: str, phc_hash: str, *, now_ms: int, temporary: bool = False) -> None:
        """Store the new hash; the previous one moves to the history (kept for `passwordHistory(5)`)."""
        with self._db.write() as s:
            s.execute(
                update(IdpCredential)
                .where(IdpCredential.user_id == user_id, IdpCredential.type == "password")
                .values(type="password-history")
            )
            history = list(
                s.scalars(
                    select(IdpCredential.id)
                    .where(IdpCredential.user_id == user_id, IdpCredential.type == "password-history")
                    .order_by(IdpCredential.created_ms.desc())
                    .offset(4)
                )
            )
            if history:
                s.execute(delete(IdpCredential).where(IdpCredential.id.in_(history)))
            s.add(
                IdpCredential(
                    id=new_id(),
                    user_id=user_id,
                    type="password",
                    secret_data=phc_hash,
                    credential_data={"algorithm": "argon2", "temporary": temporary},
                    created_ms=now_ms,
                )
            )

    def replace_password_hash(self, user_id: str, phc_hash: str) -> None:
        """Rehash-on-login: same password, new parameters."""
        with self._db.write() as s:
            s.execute(
                update(IdpCredential)
                .where(IdpCredential.user_id == user_id, IdpCredential.type == "password")
                .values(secret_data=phc_hash)
            )

    def otp(self, user_id: str) -> OtpCredential | None:
        with self._db.read() as s:
            row = s.scalar(select(IdpCredential).where(IdpCredential.user_id == user_id, IdpCredential.type == "otp"))
            if row is None:
                return None
            secret = self._protector.open_text(row.secret_data, "totp-secret")
            return OtpCredential(id=row.id, secret=secret, last_used_step=row.last_used_step)

    def set_otp(self, user_id: str, secret: str, *, now_ms: int) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpCredential).where(IdpCredential.user_id == user_id, IdpCredential.type == "otp"))
            s.add(
                IdpCredential(
                    id=new_id(),
                    user_id=user_id,
                    type="otp",
                    secret_data=self._protector.seal_text(secret, "totp-secret"),
                    credential_data={"subType": "totp", "digits": 6, "period": 30, "algorithm": "HmacSHA1"},
                    created_ms=now_ms,
                )
            )

    def consume_otp_step(self, credential_id: str, step: int) -> bool:
        """Record the accepted step; False when a concurrent login already used it or a later one (replay)."""
        with self._db.write() as s:
            result = s.execute(
                update(IdpCredential)
                .where(
                    IdpCredential.id == credential_id,
                    or_(IdpCredential.last_used_step.is_(None), IdpCredential.last_used_step < step),
                )
                .values(last_used_step=step)
            )
            return result.rowcount == 1

    def credentials(self, user_id: str) -> list[dict[str, Any]]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpCredential).where(IdpCredential.user_id == user_id, IdpCredential.type != "password-history")
            )
            return [
                {"id": r.id, "type": r.type, "createdDate": r.created_ms, "credentialData": r.credential_data}
                for r in rows
            ]

    def delete_credential(self, user_id: str, credential_id: str) -> bool:
        with self._db.write() as s:
            result = s.execute(
                delete(IdpCredential).where(IdpCredential.user_id == user_id, IdpCredential.id == credential_id)
            )
            return result.rowcount == 1

    # --- roles --------------------------------------------------------------------------------------------------
    def create_role(self, realm_id: str, name: str, description: str | None = None) -> dict[str, Any]:
        row = IdpRole(id=new_id(), realm_id=realm_id, name=name, description=description)
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError as exc:
            raise _conflict(f"Role with name {name} already exists") from exc
        return _role(row)

    def roles(self, realm_id: str, *, first: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpRole).where(IdpRole.realm_id == realm_id).order_by(IdpRole.name).offset(first).limit(limit)
            )
            return [_role(r) for r in rows]

    def role(self, realm_id: str, name: str) -> dict[str, Any] | None:
        with self._db.read() as s:
            row = s.scalar(select(IdpRole).where(IdpRole.realm_id == realm_id, IdpRole.name == name))
            return _role(row) if row else None

    def user_roles(self, user_id: str) -> list[dict[str, Any]]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpRole)
                .join(IdpUserRole, IdpUserRole.role_id == IdpRole.id)
                .where(IdpUserRole.user_id == user_id)
            )
            return sorted((_role(r) for r in rows), key=lambda r: r["name"])

    def assign_roles(self, user_id: str, role_ids: Sequence[str]) -> None:
        with self._db.write() as s:
            held = set(s.scalars(select(IdpUserRole.role_id).where(IdpUserRole.user_id == user_id)))
            s.add_all(IdpUserRole(user_id=user_id, role_id=r) for r in set(role_ids) - held)

    def remove_roles(self, user_id: str, role_ids: Sequence[str]) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpUserRole).where(IdpUserRole.user_id == user_id, IdpUserRole.role_id.in_(role_ids)))

    # --- clients ------------------------------------------------------------------------------------------------
    def create_client(self, client: Client, *, visible_at: datetime) -> Client:
        row = IdpClient(
            id=client.id,
            realm_id=client.realm_id,
            client_id=client.client_id,
            secret_sealed=self._seal_secret(client.secret),
            representation=dict(client.representation),
            visible_at=visible_at,
        )
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError as exc:
            raise _conflict(f"Client {client.client_id} already exists") from exc
        return client

    def update_client(self, client: Client, *, visible_at: datetime) -> None:
        with self._db.write() as s:
            s.execute(
                update(IdpClient)
                .where(IdpClient.id == client.id)
                .values(
                    client_id=client.client_id,
                    secret_sealed=self._seal_secret(client.secret),
                    representation=dict(client.representation),
                    visible_at=visible_at,
                )
            )

    def delete_client(self, client_row_id: str) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpUser).where(IdpUser.service_account_client_id == client_row_id))
            s.execute(delete(IdpClient).where(IdpClient.id == client_row_id))

    def client(self, realm_id: str, row_id: str) -> Client | None:
        with self._db.read() as s:
            row = s.get(IdpClient, row_id)
            return self._client(row) if row and row.realm_id == realm_id else None

    def client_by_client_id(
        self, realm_id: str, client_id: str, *, visible_at: datetime | None = None
    ) -> Client | None:
        """`visible_at`: only a client whose last change is visible at that time (test propagation delay)."""
        with self._db.read() as s:
            stmt = select(IdpClient).where(IdpClient.realm_id == realm_id, IdpClient.client_id == client_id)
            if visible_at is not None:
                stmt = stmt.where(IdpClient.visible_at <= visible_at)
            row = s.scalar(stmt)
            return self._client(row) if row else None

    def clients(self, realm_id: str, *, first: int, limit: int) -> list[Client]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpClient)
                .where(IdpClient.realm_id == realm_id)
                .order_by(IdpClient.client_id)
                .offset(first)
                .limit(limit)
            )
            return [self._client(r) for r in rows]

    def _client(self, row: IdpClient) -> Client:
        secret = self._protector.open_text(row.secret_sealed, "client-secret") if row.secret_sealed else None
        return Client(id=row.id, realm_id=row.realm_id, client_id=row.client_id, secret=secret,
                      representation=row.representation)  # fmt: skip

    def _seal_secret(self, secret: str | None) -> str | None:
        return self._protector.seal_text(secret, "client-secret") if secret else None

    # --- identity providers and mappers -------------------------------------------------------------------------
    def create_idp(self, realm_id: str, idp: IdentityProvider, *, visible_at: datetime) -> None:
        row = IdpIdentityProvider(
            id=new_id(),
            realm_id=realm_id,
            alias=idp.alias,
            secret_sealed=self._seal_secret(idp.secret),
            representation=dict(idp.representation),
            visible_at=visible_at,
        )
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError as exc:
            raise _conflict(f"Identity Provider {idp.alias} already exists") from exc

    def update_idp(self, realm_id: str, idp: IdentityProvider, *, visible_at: datetime) -> None:
        with self._db.write() as s:
            s.execute(
                update(IdpIdentityProvider)
                .where(IdpIdentityProvider.realm_id == realm_id, IdpIdentityProvider.alias == idp.alias)
                .values(
                    secret_sealed=self._seal_secret(idp.secret),
                    representation=dict(idp.representation),
                    visible_at=visible_at,
                )
            )

    def idp(self, realm_id: str, alias: str, *, visible_at: datetime | None = None) -> IdentityProvider | None:
        with self._db.read() as s:
            stmt = select(IdpIdentityProvider).where(
                IdpIdentityProvider.realm_id == realm_id, IdpIdentityProvider.alias == alias
            )
            if visible_at is not None:
                stmt = stmt.where(IdpIdentityProvider.visible_at <= visible_at)
            row = s.scalar(stmt)
            return self._idp(row) if row else None

    def idps(self, realm_id: str, *, visible_at: datetime | None = None) -> list[IdentityProvider]:
        with self._db.read() as s:
            stmt = select(IdpIdentityProvider).where(IdpIdentityProvider.realm_id == realm_id)
            if visible_at is not None:
                stmt = stmt.where(IdpIdentityProvider.visible_at <= visible_at)
            return [self._idp(r) for r in s.scalars(stmt.order_by(IdpIdentityProvider.alias))]

    def delete_idp(self, realm_id: str, alias: str) -> list[str]:
        """Delete the IdP, its mappers and links; returns the linked user ids (their sessions must end)."""
        with self._db.write() as s:
            link = (IdpFederatedIdentity.realm_id == realm_id, IdpFederatedIdentity.alias == alias)
            users = list(s.scalars(select(IdpFederatedIdentity.user_id).where(*link)))
            s.execute(delete(IdpFederatedIdentity).where(*link))
            s.execute(delete(IdpMapper).where(IdpMapper.realm_id == realm_id, IdpMapper.alias == alias))
            s.execute(
                delete(IdpIdentityProvider).where(
                    IdpIdentityProvider.realm_id == realm_id, IdpIdentityProvider.alias == alias
                )
            )
            return users

    def _idp(self, row: IdpIdentityProvider) -> IdentityProvider:
        secret = self._protector.open_text(row.secret_sealed, "client-secret") if row.secret_sealed else None
        return IdentityProvider(alias=row.alias, secret=secret, representation=row.representation)

    def mappers(self, realm_id: str, alias: str) -> list[dict[str, Any]]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpMapper)
                .where(IdpMapper.realm_id == realm_id, IdpMapper.alias == alias)
                .order_by(IdpMapper.position)
            )
            return [{**r.representation, "id": r.id} for r in rows]

    def add_mapper(self, realm_id: str, alias: str, representation: Mapping[str, Any]) -> str:
        mapper_id = new_id()
        with self._db.write() as s:
            position = s.scalar(select(func.count(IdpMapper.id)).where(IdpMapper.realm_id == realm_id)) or 0
            s.add(
                IdpMapper(
                    id=mapper_id,
                    realm_id=realm_id,
                    alias=alias,
                    position=int(position),
                    representation={**representation, "id": mapper_id, "identityProviderAlias": alias},
                )
            )
        return mapper_id

    def update_mapper(self, realm_id: str, mapper_id: str, representation: Mapping[str, Any]) -> bool:
        with self._db.write() as s:
            row = s.get(IdpMapper, mapper_id)
            if row is None or row.realm_id != realm_id:
                return False
            row.representation = {**representation, "id": mapper_id, "identityProviderAlias": row.alias}
            return True

    def delete_mapper(self, realm_id: str, mapper_id: str) -> bool:
        with self._db.write() as s:
            result = s.execute(delete(IdpMapper).where(IdpMapper.realm_id == realm_id, IdpMapper.id == mapper_id))
            return result.rowcount == 1

    # --- federated identities -----------------------------------------------------------------------------------
    def linked_user(self, realm_id: str, alias: str, upstream_sub: str) -> str | None:
        with self._db.read() as s:
            row = s.get(IdpFederatedIdentity, (realm_id, alias, upstream_sub))
            return row.user_id if row else None

    def link_user(self, realm_id: str, alias: str, upstream_sub: str, user_id: str, upstream_username: str) -> None:
        with self._db.write() as s:
            s.add(
                IdpFederatedIdentity(
                    realm_id=realm_id,
                    alias=alias,
                    upstream_sub=upstream_sub,
                    user_id=user_id,
                    upstream_username=upstream_username,
                )
            )

    def federated_identities(self, user_id: str) -> list[dict[str, str | None]]:
        with self._db.read() as s:
            rows = s.scalars(select(IdpFederatedIdentity).where(IdpFederatedIdentity.user_id == user_id))
            return [
                {"identityProvider": r.alias, "userId": r.upstream_sub, "userName": r.upstream_username} for r in rows
            ]

    # --- signing keys -------------------------------------------------------------------------------------------
    def signing_keys(self, realm_id: str) -> list[SigningKey]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpSigningKey)
                .where(IdpSigningKey.realm_id == realm_id)
                .order_by(IdpSigningKey.created_at.desc())
            )
            return [self._signing_key(r) for r in rows]

    def save_signing_keys(self, realm_id: str, upserts: Sequence[SigningKey], deletes: Sequence[str]) -> None:
        with self._db.write() as s:
            if deletes:
                s.execute(delete(IdpSigningKey).where(IdpSigningKey.kid.in_(deletes)))
            for key in upserts:
                row = s.get(IdpSigningKey, key.kid)
                if row is None:
                    row = IdpSigningKey(
                        kid=key.kid,
                        realm_id=realm_id,
                        private_sealed=self._protector.seal_text(key.private_pem.decode("ascii"), "signing-key"),
                        hs512_sealed=self._protector.seal(key.hs512_secret, "refresh-secret").hex(),
                        created_at=key.created_at,
                    )
                    s.add(row)
                row.status = key.status
                row.passive_since = key.passive_since

    def _signing_key(self, row: IdpSigningKey) -> SigningKey:
        return SigningKey(
            kid=row.kid,
            status="ACTIVE" if row.status == "ACTIVE" else "PASSIVE",
            private_pem=self._protector.open_text(row.private_sealed, "signing-key").encode("ascii"),
            hs512_secret=self._protector.open(bytes.fromhex(row.hs512_sealed), "refresh-secret"),
            created_at=row.created_at,
            passive_since=row.passive_since,
        )


def _realm(row: IdpRealm) -> Realm:
    return Realm(id=row.id, name=row.name, representation=row.representation)


def _role(row: IdpRole) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description or "",
        "composite": False,
        "clientRole": False,
        "containerId": row.realm_id,
    }


def _fill_user(row: IdpUser, user: User) -> None:
    row.username = user.username.lower()
    row.email = user.email
    row.first_name = user.first_name
    row.last_name = user.last_name
    row.enabled = user.enabled
    row.email_verified = user.email_verified
    row.attributes = {k: list(v) for k, v in user.attributes.items()}
    row.required_actions = list(user.required_actions)
    row.extra = dict(user.extra)


def _user(row: IdpUser) -> User:
    return User(
        id=row.id,
        realm_id=row.realm_id,
        username=row.username,
        enabled=row.enabled,
        email=row.email,
        email_verified=row.email_verified,
        first_name=row.first_name,
        last_name=row.last_name,
        attributes=row.attributes or {},
        required_actions=tuple(row.required_actions or ()),
        created_ms=row.created_ms,
        extra=row.extra or {},
    )


def _user_filter(stmt: Any, realm_id: str, query: UserQuery) -> Any:
    stmt = stmt.where(IdpUser.realm_id == realm_id, IdpUser.service_account_client_id.is_(None))
    fields = ((IdpUser.username, query.username), (IdpUser.email, query.email),
              (IdpUser.first_name, query.first_name), (IdpUser.last_name, query.last_name))  # fmt: skip
    for column, value in fields:
        if value is not None:
            stmt = stmt.where(_match(column, value, query.exact))
    if query.search:
        term = query.search.strip("*")
        stmt = stmt.where(or_(*(_match(c, term, False) for c in (IdpUser.username, IdpUser.email,
                                                                  IdpUser.first_name, IdpUser.last_name))))  # fmt: skip
    if query.enabled is not None:
        stmt = stmt.where(IdpUser.enabled.is_(query.enabled))
    return stmt


def _match(column: Any, value: str, exact: bool) -> Any:
    if exact:
        return func.lower(column) == value.lower()
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _has_attributes(user: User, wanted: Mapping[str, str]) -> bool:
    return all(value in (user.attributes.get(name) or []) for name, value in wanted.items())
