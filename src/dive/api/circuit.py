"""A per-partner circuit breaker (identity-api-ui §B.5.4, §B.6): opens after 3 consecutive failures, lets one probe
through after 30 s (half-open), closes on success. 4xx answers are not failures and never trip it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["CircuitBreakers", "CircuitState"]

FAILURE_THRESHOLD: Final = 3
OPEN_S: Final = 30.0

CircuitState = Literal["closed", "open", "half_open"]


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


@dataclass
class CircuitBreakers:
    on_change: Callable[[str, CircuitState], None] = lambda name, state: None
    clock: Callable[[], float] = time.monotonic
    _circuits: dict[str, _Circuit] = field(default_factory=dict)

    def state(self, name: str) -> CircuitState:
        circuit = self._circuits.get(name)
        if circuit is None or circuit.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - circuit.opened_at >= OPEN_S else "open"

    def allow(self, name: str) -> bool:
        """Whether a call may go out now; in half-open only the first caller probes."""
        state = self.state(name)
        if state == "closed":
            return True
        circuit = self._circuits[name]
        if state == "half_open" and not circuit.probing:
            circuit.probing = True
            return True
        return False

    def succeeded(self, name: str) -> None:
        if self.state(name) != "closed" or name in self._circuits:
            self._circuits[name] = _Circuit()
            self.on_change(name, "closed")

    def failed(self, name: str) -> None:
        circuit = self._circuits.setdefault(name, _Circuit())
        circuit.failures += 1
        circuit.probing = False
        if circuit.opened_at is not None or circuit.failures >= FAILURE_THRESHOLD:
            circuit.opened_at = self.clock()
            self.on_change(name, "open")
