"""Per-KAO key steps of a rewrap (spec/ztdf-kas.md §8 steps 11–14, §8.3): validate, pick the key, unwrap, binding.

CPU-bound and synchronous: the service runs it in its crypto thread pool. The DEK cache saves only the RSA unwrap;
the binding is checked on every call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass, field

from cachetools import TTLCache

from dive.kas.key_ring import KasKeyPair, KeyRing
from dive.kas.request import KaoRequest
from dive.ztdf import KeyUnwrapError, is_policy_binding_valid, unwrap_split_key

__all__ = ["DekCache", "UnwrapOutcome", "unwrap_kao"]


@dataclass(frozen=True)
class UnwrapOutcome:
    split_key: bytearray | None = field(default=None, repr=False)
    code: str | None = None
    message: str = ""
    kid: str = ""
    unwrap_seconds: float = 0.0
    cache_hit: bool | None = None


class DekCache:
    """`(kid, SHA-256(decoded wrappedKey))` → split key; process-local, never persisted (§8.3)."""

    def __init__(self, size: int, ttl_s: int) -> None:
        self._cache: TTLCache[tuple[str, bytes], bytes] | None = TTLCache(size, ttl_s) if size > 0 else None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._cache is not None

    def get(self, key: tuple[str, bytes]) -> bytes | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(key)

    def put(self, key: tuple[str, bytes], split_key: bytes) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[key] = split_key


def _fail(code: str, message: str, kid: str = "") -> UnwrapOutcome:
    return UnwrapOutcome(code=code, message=message, kid=kid)


def _decoded(wrapped_key: str, max_bytes: int) -> bytes | None:
    try:
        raw = base64.b64decode(wrapped_key, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if 0 < len(raw) <= max_bytes else None


def unwrap_kao(
    kao: KaoRequest, policy_body: str, ring: KeyRing, cache: DekCache, *, max_wrapped_bytes: int, kidless_limit: int
) -> UnwrapOutcome:
    if kao.type != "wrapped":
        return _fail("unsupported_key_type", f"key access type {kao.type!r} is not supported; only 'wrapped'")
    raw = _decoded(kao.wrapped_key, max_wrapped_bytes)
    if raw is None:
        return _fail("kao_invalid", f"wrappedKey must be base64 of 1–{max_wrapped_bytes} bytes")
    if kao.binding_alg != "HS256" or not kao.binding_hash:
        return _fail("kao_invalid", "policyBinding must be present with alg HS256")
    if kao.kid:
        key = ring.get(kao.kid)
        if key is None:
            return _fail("unknown_kid", f"this KAS has no key {kao.kid!r}", kao.kid)
        if key.status == "revoked":
            return _fail("key_revoked", f"key {kao.kid} is revoked", kao.kid)
        candidates = [key]
    else:
        candidates = ring.kidless_candidates(kidless_limit)
    digest = hashlib.sha256(raw).digest()
    outcome = _unwrap_with(candidates, kao.wrapped_key, digest, cache)
    if outcome.split_key is None:
        return outcome
    if not is_policy_binding_valid(kao.binding_hash, bytes(outcome.split_key), policy_body):
        _wipe(outcome.split_key)
        return _fail(
            "policy_binding_mismatch", "the policy binding does not match: policy changed or key moved", outcome.kid
        )
    return outcome


def _unwrap_with(candidates: list[KasKeyPair], wrapped_key: str, digest: bytes, cache: DekCache) -> UnwrapOutcome:
    begin = time.perf_counter()
    for key in candidates:
        cached = cache.get((key.kid, digest))
        if cached is not None:
            return UnwrapOutcome(bytearray(cached), kid=key.kid, cache_hit=True)
        if key.private_key is None:
            continue
        try:
            split_key = unwrap_split_key(key.private_key, wrapped_key)
        except (KeyUnwrapError, ValueError):
            continue
        cache.put((key.kid, digest), split_key)
        return UnwrapOutcome(
            bytearray(split_key),
            kid=key.kid,
            unwrap_seconds=time.perf_counter() - begin,
            cache_hit=False if cache.enabled else None,
        )
    kid = candidates[0].kid if len(candidates) == 1 else ""
    return UnwrapOutcome(
        code="key_unwrap_failed",
        message="the wrapped key does not unwrap with this KAS's key (wrong key or corrupted KAO)",
        kid=kid,
        unwrap_seconds=time.perf_counter() - begin,
    )


def _wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
