"""Mirror of the revocation list to Redis (§A.3, CONSISTENCY #25): `dive:revoked:<sha256(issuer)>:<kind>:<value>`
expiring with the longest token the entry can affect. Machine-shared on purpose, so every instance using the
same Redis sees a logout at once. The database stays the source of truth: a Redis failure is logged, not fatal."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

import redis

__all__ = ["RedisRevocationMirror", "revocation_key"]

log = logging.getLogger(__name__)


def revocation_key(issuer: str, kind: str, value: str) -> str:
    return f"dive:revoked:{hashlib.sha256(issuer.encode()).hexdigest()}:{kind}:{value}"


class RedisRevocationMirror:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def publish(self, kind: str, value: str, *, issuer: str, expires_at: datetime, now: datetime) -> None:
        ttl = max(1, int((expires_at - now).total_seconds()))
        try:
            self._redis.set(revocation_key(issuer, kind, value), "1", ex=ttl)
        except redis.RedisError:
            log.warning("revocation not mirrored to Redis", extra={"kind": kind}, exc_info=True)

    def close(self) -> None:
        self._redis.close()
