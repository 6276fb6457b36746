"""Per client IP: more than 30 failed logins per minute across users → `429` for 60 s (§A.4). In-process."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

__all__ = ["IpThrottle"]


class IpThrottle:
    def __init__(self, *, max_failures: int = 30, window_s: float = 60.0, block_s: float = 60.0) -> None:
        self._max, self._window, self._block = max_failures, window_s, block_s
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_blocked(self, ip: str | None, now: float) -> bool:
        with self._lock:
            return ip is not None and self._blocked_until.get(ip, 0.0) > now

    def record_failure(self, ip: str | None, now: float) -> None:
        if ip is None:
            return
        with self._lock:
            recent = self._failures[ip]
            recent.append(now)
            while recent and recent[0] <= now - self._window:
                recent.popleft()
            if len(recent) > self._max:
                self._blocked_until[ip] = now + self._block
                recent.clear()
