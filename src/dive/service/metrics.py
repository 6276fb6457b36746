"""Metrics every service exports (identity-api-ui §D.1–§D.2, label `instance_code` per CONSISTENCY #30).

Each app owns its `CollectorRegistry`, so several apps can live in one test process; a component adds
its own series with `registry=app.state.metrics.registry`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from dive.pki.certificates import certificate_not_after
from dive.pki.errors import CertificateInvalidError

__all__ = ["HTTP_DURATION_BUCKETS", "ServiceMetrics", "metrics_endpoint"]

HTTP_DURATION_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE: Final = "unmatched"  # bounded label for paths no route matched (§D.1: never the raw path)


class ServiceMetrics:
    def __init__(self, *, service: str, instance_code: str, version: str, registry: CollectorRegistry | None = None):
        self.registry = registry if registry is not None else CollectorRegistry()
        self.service, self.instance_code = service, instance_code
        labels = ("instance_code", "service", "method", "route", "status")
        self.requests = Counter("dive_http_requests", "HTTP requests answered", labels, registry=self.registry)
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels,
            buckets=HTTP_DURATION_BUCKETS,
            registry=self.registry,
        )
        info = Gauge("dive_service_info", "Always 1", ("instance_code", "service", "version"), registry=self.registry)
        info.labels(instance_code, service, version).set(1)
        self.cert_not_after = Gauge(
            "dive_tls_cert_not_after_seconds",
            "Expiry of the serving certificate and of the CA (Unix time)",
            ("instance_code", "service", "kind"),
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        key = (method, route or UNMATCHED_ROUTE, status)
        children = self._children.get(key)
        if children is None:  # labels() costs a lock and a dict walk; the hot path reuses the children
            values = (self.instance_code, self.service, key[0], key[1], str(status))
            children = self._children[key] = (self.requests.labels(*values), self.duration.labels(*values))
        children[0].inc()
        children[1].observe(seconds)

    def record_certificate(self, kind: str, path: Path) -> None:
        """Export a certificate's expiry; a missing file (a service run without TLS in tests) exports nothing."""
        try:
            not_after = certificate_not_after(path)
        except CertificateInvalidError:
            return
        self.cert_not_after.labels(self.instance_code, self.service, kind).set(not_after.timestamp())


async def metrics_endpoint(request: Request) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
