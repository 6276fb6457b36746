"""The api's own series (identity-api-ui §D.2), all labelled `instance_code` (CONSISTENCY #30)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dive.service.authz_metrics import AuthzMetrics

__all__ = ["ApiMetrics"]

_CIRCUIT_VALUES = {"closed": 0, "half_open": 1, "open": 2}


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry, instance_code: str) -> None:
        self._code = instance_code
        self.authz = AuthzMetrics(registry, instance_code=instance_code, service="api")
        self.postfilter_drops = Counter(
            "dive_search_postfilter_drops_total",
            "Listed items the engine denied after the SQL pushdown (a pushdown bug) or partner items re-check dropped",
            ["instance_code", "source"],
            registry=registry,
        )
        self.partner_seconds = Histogram(
            "dive_federated_search_partner_seconds",
            "Federated-search calls to partners",
            ["instance_code", "partner", "status"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5),
        )
        self.circuit = Gauge(
            "dive_partner_circuit_state",
            "Circuit breaker per partner: 0 closed, 1 half-open, 2 open",
            ["instance_code", "partner", "kind"],
            registry=registry,
        )

    def count_decision(self, allow: bool, reason_code: str) -> None:
        self.authz.observe(allow=allow, reason_code=reason_code)

    def count_drops(self, source: str, dropped: int) -> None:
        if dropped:
            self.postfilter_drops.labels(self._code, source).inc(dropped)

    def observe_partner(self, partner: str, status: str, seconds: float) -> None:
        self.partner_seconds.labels(self._code, partner, status).observe(seconds)

    def set_circuit(self, partner: str, kind: str, state: str) -> None:
        self.circuit.labels(self._code, partner, kind).set(_CIRCUIT_VALUES[state])
