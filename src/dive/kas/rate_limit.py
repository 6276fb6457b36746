"""Token buckets per subject and per client IP (spec/ztdf-kas.md §11): 429 `rate_limited` with `Retry-After`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

from cachetools import LRUCache

from dive.kas.errors import RateLimitedError

__all__ = ["RateLimiter"]

MAX_TRACKED_KEYS: Final = 100_000


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(MAX_TRACKED_KEYS)

    def take(self, key: str, what: str) -> None:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            retry = max(1, math.ceil((1.0 - tokens) / self._rate))
            raise RateLimitedError(f"Too many rewrap requests for this {what}; retry in {retry} s", retry)
        self._buckets[key] = (tokens - 1.0, now)
