"""The access-decision series every deciding service exports (identity-api-ui §D.2, CONSISTENCY #30/#32):
`dive_authz_decisions_total{instance_code, service, decision, reason_code}` and
`dive_authz_decision_seconds{instance_code, service, cached}`."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["DECISION_BUCKETS", "AuthzMetrics"]

DECISION_BUCKETS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class AuthzMetrics:
    def __init__(self, registry: CollectorRegistry, *, instance_code: str, service: str) -> None:
        self._code, self._service = instance_code, service
        self._decisions = Counter(
            "dive_authz_decisions",
            "Access decisions by the component that decided (cache hits included)",
            ("instance_code", "service", "decision", "reason_code"),
            registry=registry,
        )
        self._seconds = Histogram(
            "dive_authz_decision_seconds",
            "Time to decide",
            ("instance_code", "service", "cached"),
            buckets=DECISION_BUCKETS,
            registry=registry,
        )

    def observe(self, *, allow: bool, reason_code: str, seconds: float | None = None, cached: bool = False) -> None:
        """Count one decision (`reason_code` is `ok` on allow, else the first failed check)."""
        self._decisions.labels(self._code, self._service, "allow" if allow else "deny", reason_code).inc()
        if seconds is not None:
            self._seconds.labels(self._code, self._service, "true" if cached else "false").observe(seconds)
