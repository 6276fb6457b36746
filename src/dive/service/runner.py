"""Serving an app over HTTPS with uvicorn (uvloop + httptools), the way every service process runs."""

from __future__ import annotations

from typing import Final

import uvicorn
from starlette.types import ASGIApp

from dive.service.errors import SettingsError
from dive.service.settings import ServiceSettings

__all__ = ["GRACEFUL_SHUTDOWN_S", "serve"]

GRACEFUL_SHUTDOWN_S: Final = 10  # below supervisord's stopwaitsecs=15 (orchestration §3.1)


def serve(app: ASGIApp, settings: ServiceSettings) -> None:
    """Serve until SIGTERM/SIGINT, then finish in-flight requests (at most GRACEFUL_SHUTDOWN_S) and return."""
    for path, name in ((settings.tls_cert, "DIVE_TLS_CERT"), (settings.tls_key, "DIVE_TLS_KEY")):
        if not path.is_file():
            raise SettingsError(f"{name}={path} does not exist; issue the certificate with `dive serve` or set {name}")
    config = uvicorn.Config(
        app,
        host=settings.bind,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert),
        ssl_keyfile=str(settings.tls_key),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # RequestContextMiddleware writes one structured line per request
        log_config=None,  # keep the JSON logging set up by dive.observability
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    uvicorn.Server(config).run()
