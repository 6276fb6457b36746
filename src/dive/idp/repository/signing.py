"""Sealed realm signing keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from dive.idp.keys import SigningKey
from dive.idp.repository.base import RepositoryBase
from dive.store.models.idp import IdpSigningKey

__all__ = ["SigningKeyRepository"]


class SigningKeyRepository(RepositoryBase):
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
