"""Shared pieces of the directory repository: the base holding the database and the protector, the plain
types it returns, and the row mappers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_

from dive.idp.database import IdpDatabase
from dive.idp.errors import AdminApiError
from dive.idp.model import Realm, User
from dive.idp.protection import DataProtector
from dive.store.models.idp import IdpRealm, IdpRole, IdpUser

__all__ = ["IdentityProvider", "OtpCredential", "RepositoryBase", "UserQuery", "new_id"]


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


class RepositoryBase:
    def __init__(self, db: IdpDatabase, protector: DataProtector) -> None:
        self._db = db
        self._protector = protector

    def _seal_secret(self, secret: str | None) -> str | None:
        return self._protector.seal_text(secret, "client-secret") if secret else None


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
