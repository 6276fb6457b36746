"""KAS metrics (spec/ztdf-kas.md §12.1; CONSISTENCY #30, #32): every series carries `instance_code`."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dive.service.authz_metrics import AuthzMetrics

__all__ = ["KasMetrics"]

REWRAP_BUCKETS: Final = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
KAO_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class KasMetrics:
    def __init__(self, registry: CollectorRegistry, instance_code: str) -> None:
        code = instance_code
        self.rewraps = Counter(
            "dive_kas_rewrap", "Rewrap results per KAO", ("instance_code", "result"), registry=registry
        )
        self.errors = Counter(
            "dive_kas_rewrap_errors", "Rewrap failures by code", ("instance_code", "code"), registry=registry
        )
        self.seconds = Histogram(
            "dive_kas_rewrap_seconds",
            "Rewrap request time",
            ("instance_code",),
            buckets=REWRAP_BUCKETS,
            registry=registry,
        ).labels(code)
        self.kaos = Histogram(
            "dive_kas_rewrap_kaos",
            "KAOs per rewrap request",
            ("instance_code",),
            buckets=KAO_BUCKETS,
            registry=registry,
        ).labels(code)
        self.decision_seconds = Histogram(
            "dive_kas_decision_seconds", "Policy engine batch time", ("instance_code",), registry=registry
        ).labels(code)
        self.unwrap_seconds = Histogram(
            "dive_kas_unwrap_seconds", "RSA unwrap time", ("instance_code",), buckets=REWRAP_BUCKETS, registry=registry
        ).labels(code)
        self.dek_cache = Counter(
            "dive_kas_dek_cache", "DEK cache lookups", ("instance_code", "result"), registry=registry
        )
        self.keys = Gauge("dive_kas_keys", "KAS keys by status", ("instance_code", "status"), registry=registry)
        self.jwks_fetches = Counter(
            "dive_kas_jwks_fetch", "JWKS fetches", ("instance_code", "result"), registry=registry
        )
        self.audit_spooled = Counter(
            "dive_kas_audit_spooled", "Audit records written to the spool", ("instance_code",), registry=registry
        ).labels(code)
        self.authz = AuthzMetrics(registry, instance_code=code, service="kas")
        self._code = code

    def count_result(self, result: str, code: str | None) -> None:
        self.rewraps.labels(self._code, result).inc()
        if code is not None:
            self.errors.labels(self._code, code).inc()

    def count_request_error(self, code: str) -> None:
        self.errors.labels(self._code, code).inc()

    def count_decision(self, allow: bool, reason_code: str, seconds: float) -> None:
        self.authz.observe(allow=allow, reason_code=reason_code, seconds=seconds)

    def count_cache(self, hit: bool) -> None:
        self.dek_cache.labels(self._code, "hit" if hit else "miss").inc()

    def count_jwks_fetch(self, result: str) -> None:
        self.jwks_fetches.labels(self._code, result).inc()

    def set_keys(self, active: int, retired: int, revoked: int) -> None:
        for status, count in (("active", active), ("retired", retired), ("revoked", revoked)):
            self.keys.labels(self._code, status).set(count)
