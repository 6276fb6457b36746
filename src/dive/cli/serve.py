"""`dive serve <service> --instance <code>`: run one service of an instance over HTTPS (orchestration §3.1)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import typer
from fastapi import FastAPI

from dive.observability.logging import configure_logging
from dive.pki.certificates import ensure_service_certificate
from dive.pki.errors import PkiError
from dive.service.errors import ServiceFactoryError, SettingsError
from dive.service.runner import serve
from dive.service.settings import ServiceSettings, load_service_settings

__all__ = ["SERVICE_FACTORIES", "AppFactory", "resolve_factory", "run_service", "serve_command"]

AppFactory = Callable[[ServiceSettings], FastAPI]

# "module:function" of each service's `create_app(settings) -> FastAPI`.
SERVICE_FACTORIES: Final[Mapping[str, str]] = {
    "pdp": "dive.policy.pdp:create_app",
    "kas": "dive.kas.app:create_app",
    "idp": "dive.idp.app:create_app",
    "api": "dive.api.app:create_app",
    "web": "dive.web.app:create_app",
}
EXIT_REFUSED: Final = 2  # orchestration §2.1: refused before changing anything
EXIT_FAILED: Final = 1


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


def run_service(
    factory: AppFactory, service: str, instance: str, environ: Mapping[str, str], *, port: int | None
) -> None:
    """Load settings, log as JSON, ensure the CA and the service certificate, build the app and serve it."""
    settings = load_service_settings(service, instance, environ, port=port)
    configure_logging(service=service, instance=settings.instance, level=settings.log_level)
    ensure_service_certificate(settings.home, settings.instance, service, settings.public_host)
    serve(factory(settings), settings)


def serve_command(
    service: str = typer.Argument(..., help=f"One of {', '.join(SERVICE_FACTORIES)}."),
    instance: str = typer.Option(..., "--instance", envvar="DIVE_INSTANCE", help="Instance code, e.g. FRA or hub."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Listen port (default: the catalog's)."),
    home: Path | None = typer.Option(None, "--home", help="Deployment home (default: $DIVE_HOME or ./.dive)."),
) -> None:
    """Run one service of an instance over HTTPS until SIGTERM."""
    environ = dict(os.environ)
    if home is not None:
        environ["DIVE_HOME"] = str(home)
    try:
        run_service(resolve_factory(service), service, instance, environ, port=port)
    except (ServiceFactoryError, SettingsError) as exc:
        typer.echo(f"dive serve: {exc.code}: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from exc
    except PkiError as exc:
        typer.echo(f"dive serve: {exc.code}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from exc
