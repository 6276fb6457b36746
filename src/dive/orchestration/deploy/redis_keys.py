"""The Redis side of a deployment (spec/orchestration.md §1.1, §4.5 #3, §10; CONSISTENCY #25): every per-instance key
starts with `dive:<c>:`, the `redis` check is a `PING`, and nuke deletes exactly the prefixes of the instances it
removes. The machine-shared revocation mirror (`dive:revoked:…`) is left to expire with its tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import redis

from dive.orchestration.errors import PhaseError

__all__ = [
    "delete_instance_keys",
    "has_instance_keys",
    "instance_prefix",
    "ping_redis",
    "redis_server_url",
    "safe_redis_url",
]

_TIMEOUT_S: Final = 2.0
_SCAN_BATCH: Final = 1000


def redis_server_url(environ: Mapping[str, str]) -> str | None:
    """`DIVE_REDIS_URL`, or None for the embedded in-process caches."""
    return environ.get("DIVE_REDIS_URL", "").strip() or None


def instance_prefix(code: str) -> str:
    """`DIVE_REDIS_PREFIX` of instance `code` (§9.4)."""
    return f"dive:{code.lower()}:"


def safe_redis_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    return f"{head.split('://', 1)[0]}://***@{tail}" if at else url


def ping_redis(url: str) -> str:
    """`PING` (§4.5 #3); the server's version on success."""
    with _client(url) as client:
        try:
            client.ping()
            version = client.info("server").get("redis_version", "unknown")
        except redis.RedisError as exc:
            raise _unavailable(url, exc) from exc
    return f"PING answered by Redis {version} at {safe_redis_url(url)}"


def delete_instance_keys(url: str, code: str) -> int:
    """Delete every key under `dive:<c>:`; the number deleted."""
    deleted = 0
    with _client(url) as client:
        try:
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{instance_prefix(code)}*", count=_SCAN_BATCH):
                batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    deleted += client.delete(*batch)
                    batch.clear()
            if batch:
                deleted += client.delete(*batch)
        except redis.RedisError as exc:
            raise _unavailable(url, exc) from exc
    return deleted


def has_instance_keys(url: str, code: str) -> bool:
    with _client(url) as client:
        try:
            return next(iter(client.scan_iter(match=f"{instance_prefix(code)}*", count=_SCAN_BATCH)), None) is not None
        except redis.RedisError as exc:
            raise _unavailable(url, exc) from exc


def _client(url: str) -> redis.Redis:
    try:
        return redis.Redis.from_url(url, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S)
    except ValueError as exc:
        raise PhaseError(
            "redis_url_invalid", f"DIVE_REDIS_URL={safe_redis_url(url)} is not a Redis URL: {exc}"
        ) from exc


def _unavailable(url: str, exc: redis.RedisError) -> PhaseError:
    return PhaseError(
        "redis_unavailable",
        f"Redis at {safe_redis_url(url)} does not answer: {exc.__class__.__name__}: {exc}",
        remediation="start Redis, or check DIVE_REDIS_URL",
    )
