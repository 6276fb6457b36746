"""The idp service: `dive serve idp` imports `create_app(settings)`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive.idp.bootstrap import bootstrap, rotate_due_keys
from dive.idp.broker.partners import PartnerClient
from dive.idp.clock import Clock, SystemClock
from dive.idp.core import IdpCore
from dive.idp.database import IdpDatabase
from dive.idp.errors import AdminApiError, IdpError, OAuthError
from dive.idp.metrics import IdpMetrics
from dive.idp.passwords import PasswordHasher
from dive.idp.protection import DataProtector, decode_protection_key
from dive.idp.repository import Directory
from dive.idp.revocation_mirror import RedisRevocationMirror
from dive.idp.routes import admin, broker, login, oidc
from dive.idp.routes.common import in_thread
from dive.idp.session_store import SessionStore
from dive.idp.settings import load_idp_settings
from dive.idp.signing import RealmKeys
from dive.idp.throttle import IpThrottle
from dive.service.app import create_service_app
from dive.service.settings import ServiceSettings
from dive.store.engine import create_engine_for
from dive.store.migrate import ensure_schema

__all__ = ["VERSION", "create_app"]

VERSION = "0.1.0"
MAINTENANCE_INTERVAL_S = 3600.0  # key rotation is checked at start and at least daily (§A.2)
EVENTS_RETENTION = timedelta(days=7)
SESSION_GAUGE_WINDOW = timedelta(hours=8)  # the SSO maximum lifespan
log = logging.getLogger(__name__)


def create_app(settings: ServiceSettings, *, clock: Clock | None = None) -> FastAPI:
    idp_settings = load_idp_settings(settings)
    engine = create_engine_for(settings.database_url)
    db = IdpDatabase(engine)
    directory = Directory(db, DataProtector(decode_protection_key(idp_settings.data_protection_key)))
    mirror = RedisRevocationMirror(settings.redis_url) if settings.redis_url else None
    registry = CollectorRegistry()
    metrics = IdpMetrics(registry, settings.instance_code)
    core = IdpCore(
        settings=idp_settings,
        directory=directory,
        store=SessionStore(db, on_revoke=mirror.publish if mirror else None),
        hasher=PasswordHasher(idp_settings.argon2, observe=metrics.password_hash),
        keys=RealmKeys(directory),
        partners=PartnerClient(settings.ca_bundle, on_jwks_fetch=metrics.jwks_fetch),
        metrics=metrics,
        clock=clock or SystemClock(),
    )
    metrics.count_sessions_with(lambda: core.store.count_open_sso_sessions(core.now() - SESSION_GAUGE_WINDOW))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await in_thread(ensure_schema, settings.database_url, lock_dir=settings.home / "locks")
        await in_thread(bootstrap, core)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_maintenance, core)
            yield
            tasks.cancel_scope.cancel()
        core.partners.close()
        if mirror is not None:
            mirror.close()
        engine.dispose()

    async def database_check() -> None:
        def probe() -> None:
            with db.read() as session:
                session.execute(text("SELECT 1"))

        await in_thread(probe)

    async def keys_check() -> None:
        def probe() -> None:
            for realm in directory.realms():
                core.keys.active(realm)

        await in_thread(probe)

    async def realms_check() -> None:
        if not await in_thread(directory.realms):
            raise IdpError("realms_missing", "no realm exists yet")

    app = create_service_app(
        settings,
        title="DIVE identity provider",
        version=VERSION,
        readiness_checks={"database": database_check, "signing-keys": keys_check, "realms": realms_check},
        lifespan=lifespan,
        registry=registry,
    )
    app.state.idp = core
    app.state.throttle = IpThrottle()
    app.add_exception_handler(OAuthError, _oauth_error)  # type: ignore[arg-type]
    app.add_exception_handler(AdminApiError, _admin_error)  # type: ignore[arg-type]
    for module in (oidc, login, broker, admin):
        app.include_router(module.router)
    return app


async def _oauth_error(request: Request, exc: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **exc.headers}
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _admin_error(request: Request, exc: AdminApiError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status)


async def _maintenance(core: IdpCore) -> None:
    while True:
        await anyio.sleep(MAINTENANCE_INTERVAL_S)
        try:
            await in_thread(rotate_due_keys, core)
            cutoff_ms = int((core.now() - EVENTS_RETENTION).timestamp() * 1000)
            await in_thread(core.store.purge_expired, core.now(), events_before_ms=cutoff_ms)
        except Exception:  # outermost boundary of the background task: log, keep serving, retry later
            log.exception("idp maintenance failed; retrying in an hour")
