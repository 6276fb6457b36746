"""Token revocation (identity-api-ui §A.3, §B.2 step 6): `jti` and `sid` against the instance's revocation list.

Redis when configured (the machine-shared mirror `dive:revoked:<sha256(iss)>:<kind>:<value>`), otherwise the
`revocations` table mirrored into an in-process set refreshed at most every second. A store that cannot be read
refuses the token (503 `revocation_unavailable`): upstream skipped the check when Redis failed (§B.10 item 4).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final, Protocol

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dive.idp.revocation_mirror import revocation_key
from dive.store.models.idp import Revocation
from dive.tokens import TokenCheckUnavailableError

__all__ = ["DatabaseRevocations", "RedisRevocations", "RevocationList"]

REFRESH_S: Final = 1.0


class RevocationList(Protocol):
    async def is_revoked(self, claims: Mapping[str, object]) -> bool: ...


def _entries(claims: Mapping[str, object]) -> list[tuple[str, str]]:
    return [(kind, value) for kind in ("jti", "sid") if isinstance(value := claims.get(kind), str) and value]


def _unavailable(exc: Exception) -> TokenCheckUnavailableError:
    return TokenCheckUnavailableError(
        "revocation_unavailable", f"the token revocation list cannot be read ({type(exc).__name__}); try again later"
    )


class RedisRevocations:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def is_revoked(self, claims: Mapping[str, object]) -> bool:
        issuer = claims.get("iss")
        keys = [revocation_key(str(issuer), kind, value) for kind, value in _entries(claims)]
        if not keys:
            return False
        try:
            return int(await self._client.exists(*keys)) > 0
        except RedisError as exc:
            raise _unavailable(exc) from exc


class DatabaseRevocations:
    """The `revocations` rows that have not expired, as a set of `(issuer, kind, value)`."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._revoked: frozenset[tuple[str, str, str]] = frozenset()
        self._loaded_at = float("-inf")
        self._lock = anyio.Lock()

    async def is_revoked(self, claims: Mapping[str, object]) -> bool:
        if time.monotonic() - self._loaded_at >= REFRESH_S:
            async with self._lock:
                if time.monotonic() - self._loaded_at >= REFRESH_S:
                    await self._reload()
        issuer = str(claims.get("iss"))
        return any((issuer, kind, value) in self._revoked for kind, value in _entries(claims))

    async def _reload(self) -> None:
        try:
            self._revoked = await anyio.to_thread.run_sync(self._read)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        self._loaded_at = time.monotonic()

    def _read(self) -> frozenset[tuple[str, str, str]]:
        now = datetime.now(UTC)
        with self._sessions() as session:
            rows = session.execute(
                select(Revocation.issuer, Revocation.kind, Revocation.value).where(Revocation.expires_at > now)
            )
            return frozenset((issuer, kind, value) for issuer, kind, value in rows)
