"""The KAS key store (spec/ztdf-kas.md §9.1, §10): sealed private keys through the secrets provider, metadata in
`kas_keys`, public keys in the own `kas_registry(_keys)` rows and as `<kid>.pub.pem` files.

Every change publishes the key list to the registry in the same transaction and bumps `registry_version`, so
writers and the KAS itself see the new key at their next registry check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dive import catalog
from dive.kas.errors import KeyStoreError
from dive.kas.key_ring import KasKeyPair, KeyRing, KeyStatus, public_key_fingerprint, public_key_pem
from dive.kas.sealing import new_kek, seal_private_key, unseal_private_key
from dive.secrets import SecretsError, SecretsProvider
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasKey, KasRegistryEntry, KasRegistryKey
from dive.ztdf import load_public_key

__all__ = ["ALGORITHM", "KasKeyInfo", "KasKeyStore"]

ALGORITHM: Final = "rsa:2048"
_KID_SYNTAX: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class KasKeyInfo:
    kid: str
    algorithm: str
    status: str
    fingerprint: str
    created_at: datetime


class KasKeyStore:
    def __init__(
        self, *, home: Path, code: str, sessions: sessionmaker[Session], secrets: SecretsProvider, kas_url: str
    ) -> None:
        self.code = catalog.normalize_code(code)
        self._home, self._sessions, self._secrets, self._kas_url = home, sessions, secrets, kas_url

    @property
    def public_dir(self) -> Path:
        return self._home / "instances" / self.code / "kas"

    def list_keys(self) -> list[KasKeyInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(KasKey).order_by(KasKey.created_at, KasKey.kid))
            return [KasKeyInfo(r.kid, r.algorithm, r.status, r.fingerprint, r.created_at) for r in rows]

    def rotate(self) -> KasKeyInfo:
        """A new RSA-2048 key `<c>-rsa-<n>` becomes active; the previous active key is retired (still unwraps)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._add(self._next_kid(), key, "active")

    def ensure_active_key(self) -> KasKeyInfo:
        """The active key, created on first use (deploy, §10)."""
        active = [info for info in self.list_keys() if info.status == "active"]
        return active[0] if active else self.rotate()

    def import_key(self, kid: str, key: rsa.RSAPrivateKey, status: KeyStatus = "active") -> KasKeyInfo:
        """Add an existing private key (interop, §10 `import-key`); refused for a kid that exists."""
        if not _KID_SYNTAX.fullmatch(kid):
            raise KeyStoreError("kas_key_store_invalid", f"kid {kid!r} is not 1–64 characters [A-Za-z0-9._:-]")
        if status == "revoked":
            raise KeyStoreError("kas_key_store_invalid", "a key is imported as active or retired, not revoked")
        return self._add(kid, key, status)

    def revoke(self, kid: str) -> KasKeyInfo:
        with self._sessions.begin() as session:
            row = session.get(KasKey, kid)
            if row is None:
                raise KeyStoreError("kas_unknown_kid", f"no KAS key {kid!r}; list them with `dive kas keys`")
            if row.status == "active":
                raise KeyStoreError("kas_key_active", f"{kid} is the active key; rotate first, then revoke it")
            row.status, row.revoked_at = "revoked", _now()
            self._publish(session)
            return KasKeyInfo(row.kid, row.algorithm, row.status, row.fingerprint, row.created_at)

    def load_ring(self) -> KeyRing:
        """Unseal every usable key; `KeyStoreError` (the KAS refuses to start) on an unreadable key or no active key."""
        with self._sessions() as session:
            rows = list(session.scalars(select(KasKey)))
        kek = self._kek(create=False)
        pairs = []
        for row in rows:
            private = None if row.status == "revoked" else self._unseal(kek, row)
            public = private.public_key() if private is not None else self._stored_public_key(row.kid)
            pairs.append(KasKeyPair(row.kid, row.status, row.created_at, public, private))  # type: ignore[arg-type]
        return KeyRing(pairs)

    def _add(self, kid: str, key: rsa.RSAPrivateKey, status: KeyStatus) -> KasKeyInfo:
        ref = f"kas/{self.code}/keys/{kid.lower()}"
        fingerprint = public_key_fingerprint(key.public_key())
        now = _now()
        with self._sessions.begin() as session:
            if session.get(KasKey, kid) is not None:
                raise KeyStoreError("kas_key_exists", f"KAS key {kid} exists already; choose another kid")
            if status == "active":
                for row in session.scalars(select(KasKey).where(KasKey.status == "active")):
                    row.status, row.retired_at = "retired", now
                session.flush()
            try:
                self._secrets.put(ref, seal_private_key(self._kek(create=True), kid, key), overwrite=True)
            except SecretsError as exc:
                raise KeyStoreError("kas_key_store_invalid", f"the sealed key {kid} cannot be stored: {exc}") from exc
            session.add(
                KasKey(
                    kid=kid,
                    algorithm=ALGORITHM,
                    status=status,
                    secret_ref=ref,
                    fingerprint=fingerprint,
                    created_at=now,
                    activated_at=now if status == "active" else None,
                    retired_at=now if status == "retired" else None,
                )
            )
            session.flush()
            self._write_public_pem(kid, key.public_key())
            self._publish(session)
        return KasKeyInfo(kid, ALGORITHM, status, fingerprint, now)

    def _next_kid(self) -> str:
        pattern = re.compile(rf"{self.code}-rsa-(\d+)")
        numbers = [int(m[1]) for info in self.list_keys() if (m := pattern.fullmatch(info.kid))]
        return f"{self.code}-rsa-{max(numbers, default=0) + 1}"

    def _kek(self, *, create: bool) -> str:
        path = f"kas/{self.code}/kek"
        try:
            kek = self._secrets.ensure(path, new_kek) if create else self._secrets.get(path)
        except SecretsError as exc:
            raise KeyStoreError("kas_key_store_invalid", f"the KAS key-encryption key is unusable: {exc}") from exc
        if kek is None:
            raise KeyStoreError(
                "kas_no_active_key", f"no KAS key-encryption key for {self.code}; run `dive kas rotate`"
            )
        return kek

    def _unseal(self, kek: str, row: KasKey) -> rsa.RSAPrivateKey:
        try:
            sealed = self._secrets.get(row.secret_ref)
        except SecretsError as exc:
            raise KeyStoreError("kas_key_store_invalid", f"the sealed key {row.kid} is unusable: {exc}") from exc
        if sealed is None:
            raise KeyStoreError("kas_key_store_invalid", f"the sealed key {row.kid} is missing at {row.secret_ref}")
        return unseal_private_key(kek, row.kid, sealed)

    def _stored_public_key(self, kid: str) -> rsa.RSAPublicKey:
        return load_public_key((self.public_dir / f"{kid}.pub.pem").read_bytes())

    def _write_public_pem(self, kid: str, key: rsa.RSAPublicKey) -> None:
        self.public_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        path = self.public_dir / f"{kid}.pub.pem"
        path.write_text(public_key_pem(key), encoding="ascii")
        path.chmod(0o644)

    def _publish(self, session: Session) -> None:
        """The own registry entry (`is_local`, approved) with the current key list (§9.2)."""
        kas_id = catalog.kas_id(self.code)
        entry = session.get(KasRegistryEntry, kas_id)
        if entry is None:
            session.add(
                KasRegistryEntry(
                    kas_id=kas_id, instance_code=self.code, url=self._kas_url, status="approved", is_local=True
                )
            )
            session.flush()
        session.execute(delete(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id))
        for row in session.scalars(select(KasKey)):
            public = self._public_pem(row.kid)
            session.add(
                KasRegistryKey(
                    kas_id=kas_id,
                    kid=row.kid,
                    algorithm=row.algorithm,
                    public_key_pem=public,
                    fingerprint=row.fingerprint,
                    status=row.status,
                    created_at=row.created_at,
                )
            )
        session.flush()
        FederationRegistryRepository().bump_version(session)

    def _public_pem(self, kid: str) -> str:
        return (self.public_dir / f"{kid}.pub.pem").read_text(encoding="ascii")


def _now() -> datetime:
    return datetime.now(UTC)
