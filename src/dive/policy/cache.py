"""The decision cache (spec/abac.md §8, D12; CONSISTENCY #6, #25).

The key covers the whole input but its three volatile fields, plus the policy revision (§8.2); the lifetime follows the
classification (§8.3); embargo denials, invalid classifications and engine errors are never stored. `CachedEngine`
puts a cache in front of any `PolicyEngine` and flushes the namespace whenever it sees a new revision (§8.4).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, NamedTuple, Protocol

from cachetools import TLRUCache

from dive.policy.bundle import canonical_json
from dive.policy.engine import Decision, LabelCheck, PolicyEngine, QueryResult
from dive.policy.errors import PolicyError

__all__ = [
    "IN_PROCESS_MAX_ENTRIES",
    "TTL_BY_CLASSIFICATION",
    "VOLATILE_CONTEXT_FIELDS",
    "CachedEngine",
    "DecisionCache",
    "DecisionCacheUnavailableError",
    "InProcessDecisionCache",
    "decision_cache_key",
    "ttl_for",
]

log = logging.getLogger(__name__)

# §8.3, seconds.
TTL_BY_CLASSIFICATION: Final[Mapping[str, int]] = {
    "TOP_SECRET": 15,
    "SECRET": 30,
    "CONFIDENTIAL": 60,
    "RESTRICTED": 300,
    "UNCLASSIFIED": 300,
}
VOLATILE_CONTEXT_FIELDS: Final = ("currentTime", "requestId", "sourceIP")  # §8.2: never part of the key
IN_PROCESS_MAX_ENTRIES: Final = 50_000  # CONSISTENCY #6


class DecisionCacheUnavailableError(PolicyError):
    """The cache backend failed; the caller decides without it (the engine still decides, so nothing fails open)."""

    def __init__(self, message: str) -> None:
        super().__init__("decision_cache_unavailable", message)


class DecisionCache(Protocol):
    def get(self, key: str) -> Decision | None: ...

    def put(self, key: str, decision: Decision, ttl_s: int) -> None: ...

    def flush(self) -> None: ...


def decision_cache_key(revision: str, input: Mapping[str, object]) -> str:
    """§8.2: SHA-256 hex of the canonical JSON of `{"rev", "input′"}`."""
    document = {"rev": revision, "input": _stable_input(input)}
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def ttl_for(decision: Decision, input: Mapping[str, object]) -> int | None:
    """§8.3: seconds to keep `decision`, or None when it must not be cached (embargo denial, invalid `cls`)."""
    if decision.checks.get("embargo_passed") is not True:  # time-dependent: it may lift at any moment
        return None
    resource = input.get("resource")
    classification = resource.get("classification") if isinstance(resource, Mapping) else None
    return TTL_BY_CLASSIFICATION.get(classification) if isinstance(classification, str) else None


def _stable_input(input: Mapping[str, object]) -> dict[str, object]:
    """`input′`: without the volatile context fields, with `subject.acpCOI` and `context.amr` sorted."""
    stable = dict(input)
    subject, context = input.get("subject"), input.get("context")
    if isinstance(subject, Mapping):
        stable["subject"] = _with_sorted(subject, "acpCOI")
    if isinstance(context, Mapping):
        kept = {name: value for name, value in context.items() if name not in VOLATILE_CONTEXT_FIELDS}
        stable["context"] = _with_sorted(kept, "amr")
    return stable


def _with_sorted(section: Mapping[str, object], name: str) -> dict[str, object]:
    copy = dict(section)
    value = copy.get(name)
    if isinstance(value, list):
        copy[name] = sorted(value, key=canonical_json)  # any JSON values, in one deterministic order
    return copy


class _Entry(NamedTuple):
    decision: Decision
    ttl_s: int


class InProcessDecisionCache:
    """The embedded deployment's cache: per-entry TTL, at most `max_entries` (least recently used go first)."""

    def __init__(
        self, *, max_entries: int = IN_PROCESS_MAX_ENTRIES, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: TLRUCache[str, _Entry] = TLRUCache(max_entries, _expires_at, timer=timer)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe; the api decides in worker threads

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def get(self, key: str) -> Decision | None:
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry.decision

    def put(self, key: str, decision: Decision, ttl_s: int) -> None:
        with self._lock:
            self._entries[key] = _Entry(decision, ttl_s)

    def flush(self) -> None:
        with self._lock:
            self._entries.clear()


def _expires_at(_key: str, entry: _Entry, now: float) -> float:
    return now + entry.ttl_s


class CachedEngine:
    """A `PolicyEngine` that answers repeated decisions from `cache` (§8). Engine errors propagate, uncached.

    The revision is asked of the engine at most every `revision_poll_s` seconds (§8.4: 5 s for a remote engine, whose
    `revision()` is an HTTP call; 0, every decision, for the embedded one) and learnt from every decision it makes.
    """

    def __init__(
        self,
        engine: PolicyEngine,
        cache: DecisionCache,
        *,
        revision_poll_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine, self._cache = engine, cache
        self._poll_s, self._clock = revision_poll_s, clock
        self._revision: str | None = None
        self._polled_at = -math.inf
        self._lock = threading.Lock()

    def decide(self, input: Mapping[str, object]) -> Decision:
        return self.decide_many([input])[0]

    def decide_many(self, inputs: Sequence[Mapping[str, object]]) -> list[Decision]:
        """Hits come from the cache; the misses go to the engine in one batch and are stored by the §8.3 rules."""
        revision = self._current_revision()
        keys = [decision_cache_key(revision, item) for item in inputs]
        found = [self._get(key) for key in keys]
        misses = [index for index, decision in enumerate(found) if decision is None]
        if misses:
            for index, decision in zip(misses, self._engine.decide_many([inputs[i] for i in misses]), strict=True):
                found[index] = decision
                self._store(revision, inputs[index], decision)
        return [decision for decision in found if decision is not None]

    def check_label(self, resource: Mapping[str, object], strict: bool) -> LabelCheck:
        return self._engine.check_label(resource, strict)

    def revision(self) -> str:
        return self._current_revision()

    def query(self, path: str, input: object | None = None) -> QueryResult:
        return self._engine.query(path, input)

    def reload(self, data: Mapping[str, object] | None = None, extra_modules: Mapping[str, str] | None = None) -> None:
        self._engine.reload(data, extra_modules)
        self._observe(self._engine.revision())

    def _current_revision(self) -> str:
        now = self._clock()
        if self._revision is None or now - self._polled_at >= self._poll_s:
            self._polled_at = now
            return self._observe(self._engine.revision())
        return self._revision

    def _observe(self, revision: str) -> str:
        """§8.4: a revision not seen before flushes the namespace (earlier entries are unreachable anyway)."""
        with self._lock:
            if revision != self._revision:
                self._revision = revision
                self._flush()
        return revision

    def _store(self, revision: str, input: Mapping[str, object], decision: Decision) -> None:
        decided_under = decision.revision or revision
        if decided_under != revision:  # the engine moved on between the two calls: learn it from the decision
            self._observe(decided_under)
        ttl = ttl_for(decision, input)
        if ttl is not None:
            self._put(decision_cache_key(decided_under, input), decision, ttl)

    def _get(self, key: str) -> Decision | None:
        try:
            return self._cache.get(key)
        except DecisionCacheUnavailableError as exc:
            log.warning("decision cache unavailable; deciding uncached", extra={"code": exc.code, "error": str(exc)})
            return None

    def _put(self, key: str, decision: Decision, ttl_s: int) -> None:
        try:
            self._cache.put(key, decision, ttl_s)
        except DecisionCacheUnavailableError as exc:
            log.warning("decision cache unavailable; not stored", extra={"code": exc.code, "error": str(exc)})

    def _flush(self) -> None:
        try:
            self._cache.flush()
        except DecisionCacheUnavailableError as exc:
            log.warning("decision cache unavailable; not flushed", extra={"code": exc.code, "error": str(exc)})
