"""Clients, identity providers, their mappers and the links of brokered users."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from dive.idp.model import Client
from dive.idp.repository.base import IdentityProvider, RepositoryBase, _conflict, new_id
from dive.store.models.idp import IdpClient, IdpFederatedIdentity, IdpIdentityProvider, IdpMapper, IdpUser

__all__ = ["FederationRepository"]


class FederationRepository(RepositoryBase):
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
