"""Which module builds each service's app: `create_app(settings) -> FastAPI` per service (orchestration §3.1).

Shared by `dive serve` and the supervisor runtime, which asks it which services this build has.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Final

from fastapi import FastAPI

from dive.service.errors import ServiceFactoryError
from dive.service.settings import ServiceSettings

__all__ = ["SERVICE_FACTORIES", "AppFactory", "resolve_factory"]

AppFactory = Callable[[ServiceSettings], FastAPI]

# "module:function" of each service's `create_app(settings) -> FastAPI`.
SERVICE_FACTORIES: Final[Mapping[str, str]] = {
    "pdp": "dive.policy.pdp:create_app",
    "kas": "dive.kas.app:create_app",
    "idp": "dive.idp.app:create_app",
    "api": "dive.api.app:create_app",
    "web": "dive.web.app:create_app",
}


def resolve_factory(service: str) -> AppFactory:
    """Import the service's app factory; `ServiceFactoryError` when the name or its module is unknown."""
    target = SERVICE_FACTORIES.get(service)
    if target is None:
        raise ServiceFactoryError(
            "service_unknown", f"unknown service {service!r}; choose one of {', '.join(SERVICE_FACTORIES)}"
        )
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
            raise  # a dependency of the service is missing: a broken install, not a missing service
        raise ServiceFactoryError(
            "service_unavailable", f"service {service!r} is not available in this build ({module_name} is missing)"
        ) from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ServiceFactoryError("service_unavailable", f"{module_name} has no app factory {attribute}()")
    return factory  # type: ignore[no-any-return]
