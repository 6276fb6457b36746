"""The app factory every service starts from: health, metrics, request ids, error shape, access log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import Lifespan

from dive.pki.ca import ca_certificate_path
from dive.service.health import HealthExtra, ReadinessCheck, add_health_routes
from dive.service.metrics import ServiceMetrics, metrics_endpoint
from dive.service.middleware import DEFAULT_MAX_BODY_BYTES, RequestContextMiddleware
from dive.service.responses import install_error_handlers
from dive.service.settings import ServiceSettings

__all__ = ["create_service_app"]

_NO_CHECKS: Final[Mapping[str, ReadinessCheck]] = MappingProxyType({})


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    version: str,
    readiness_checks: Mapping[str, ReadinessCheck] = _NO_CHECKS,
    lifespan: Lifespan[FastAPI] | None = None,
    health_extra: HealthExtra | None = None,
    health_prefixes: Sequence[str] = ("/health",),
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """A FastAPI app with the routes and behaviour identity-api-ui §0 and §D.1 require of every service.

    `app.state.settings` and `app.state.metrics` (with `.registry` for the service's own series) are set.
    `readiness_checks` gate `/health` and `/health/ready`; `health_extra` adds fields to `/health`.
    """
    app = FastAPI(title=title, version=version, lifespan=lifespan, docs_url=None, redoc_url=None)
    metrics = ServiceMetrics(
        service=settings.service, instance_code=settings.instance_code, version=version, registry=registry
    )
    metrics.record_certificate("leaf", settings.tls_cert)
    metrics.record_certificate("ca", ca_certificate_path(settings.home))
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    identity = {"service": settings.service, "instance": settings.instance_code, "version": version}
    add_health_routes(app, prefixes=health_prefixes, identity=identity, checks=readiness_checks, extra=health_extra)
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestContextMiddleware, router=app.router, metrics=metrics, max_body_bytes=max_body_bytes)
    return app
