"""Realms, users, credentials and roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from dive.idp.errors import AdminApiError
from dive.idp.model import Realm, User
from dive.idp.repository.base import (
    OtpCredential,
    RepositoryBase,
    UserQuery,
    _conflict,
    _fill_user,
    _has_attributes,
    _realm,
    _role,
    _user,
    _user_filter,
    new_id,
)
from dive.store.models.idp import IdpCredential, IdpRealm, IdpRole, IdpUser, IdpUserRole

__all__ = ["AccountRepository"]


class AccountRepository(RepositoryBase):
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
