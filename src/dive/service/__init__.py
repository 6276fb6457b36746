"""The service skeleton shared by pdp, kas, idp, api and web: settings, app factory, errors, runner."""

from __future__ import annotations

from dive.service.app import create_service_app
from dive.service.body import read_body_limited
from dive.service.errors import HttpError, PayloadTooLargeError, ServiceError, ServiceFactoryError, SettingsError
from dive.service.health import CheckResult, HealthExtra, ReadinessCheck, run_checks
from dive.service.metrics import ServiceMetrics
from dive.service.middleware import DEFAULT_MAX_BODY_BYTES
from dive.service.responses import error_body, error_response
from dive.service.runner import serve
from dive.service.settings import Environment, ServiceSettings, load_service_settings

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "CheckResult",
    "Environment",
    "HealthExtra",
    "HttpError",
    "PayloadTooLargeError",
    "ReadinessCheck",
    "ServiceError",
    "ServiceFactoryError",
    "ServiceMetrics",
    "ServiceSettings",
    "SettingsError",
    "create_service_app",
    "error_body",
    "error_response",
    "load_service_settings",
    "read_body_limited",
    "run_checks",
    "serve",
]
