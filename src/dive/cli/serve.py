"""`dive serve <service> --instance <code>`: run one service of an instance over HTTPS (orchestration §3.1)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import typer

from dive.observability.logging import configure_logging
from dive.pki.certificates import ensure_service_certificate
from dive.pki.errors import PkiError
from dive.service.errors import ServiceFactoryError, SettingsError
from dive.service.factories import SERVICE_FACTORIES, AppFactory, resolve_factory
from dive.service.runner import serve
from dive.service.settings import load_service_settings

__all__ = ["SERVICE_FACTORIES", "AppFactory", "resolve_factory", "run_service", "serve_command"]

EXIT_REFUSED: Final = 2  # orchestration §2.1: refused before changing anything
EXIT_FAILED: Final = 1


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
