"""The decision cache in Redis, shared by an instance's processes (spec/abac.md §8.1; CONSISTENCY #6, #25).

Keys are `<DIVE_REDIS_PREFIX><namespace>:<key>`, i.e. `dive:<c>:decision:<sha256>`; each entry is the engine's
decision object as canonical JSON, `SET … EX ttl`. A new revision flushes the namespace with `SCAN` and `DEL`, never
`FLUSHDB`: the database is shared with other instances and caches.
"""

from __future__ import annotations

import json
import re
from typing import Final

import redis

from dive.policy.bundle import canonical_json
from dive.policy.cache import DecisionCacheUnavailableError
from dive.policy.engine import Decision
from dive.policy.errors import PolicyQueryError

__all__ = ["DEFAULT_NAMESPACE", "RedisDecisionCache"]

DEFAULT_NAMESPACE: Final = "decision"
_SCAN_BATCH: Final = 500
_GLOB_SPECIAL: Final = re.compile(r"([*?\[\]\\])")


class RedisDecisionCache:
    def __init__(self, client: redis.Redis, *, prefix: str, namespace: str = DEFAULT_NAMESPACE) -> None:
        """`prefix` is the instance's `DIVE_REDIS_PREFIX` (`dive:<c>:`); the KAS passes its own `namespace` (§8.1)."""
        self._client = client
        self._prefix = f"{prefix}{namespace}:"

    def key_for(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> Decision | None:
        try:
            stored = self._client.get(self.key_for(key))
        except redis.RedisError as exc:
            raise _unavailable("read", exc) from exc
        if stored is None:
            return None
        try:
            return Decision.from_result(json.loads(stored))
        except (ValueError, PolicyQueryError):  # a foreign or truncated value: treat as a miss, the engine decides
            return None

    def put(self, key: str, decision: Decision, ttl_s: int) -> None:
        try:
            self._client.set(self.key_for(key), canonical_json(decision.raw).encode("utf-8"), ex=ttl_s)
        except redis.RedisError as exc:
            raise _unavailable("write", exc) from exc

    def flush(self) -> None:
        """Deletes every key of this namespace (§8.4)."""
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self._prefix) + "*"
        try:
            batch: list[bytes] = []
            for name in self._client.scan_iter(match=pattern, count=_SCAN_BATCH):
                batch.append(name)
                if len(batch) >= _SCAN_BATCH:
                    self._client.delete(*batch)
                    batch.clear()
            if batch:
                self._client.delete(*batch)
        except redis.RedisError as exc:
            raise _unavailable("flush", exc) from exc


def _unavailable(operation: str, exc: redis.RedisError) -> DecisionCacheUnavailableError:
    return DecisionCacheUnavailableError(f"the Redis decision cache failed to {operation}: {exc}")
