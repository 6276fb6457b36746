"""`create_app(settings)` for `dive serve pdp`: wires the engine, the registry feed and the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Final

import anyio
from fastapi import FastAPI

from dive.policy.bundle import POLICY_VERSION, PolicyBundle
from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.pdp.routes import router
from dive.policy.pdp.runtime import PdpRuntime, read_extra_modules
from dive.policy.pdp.settings import load_pdp_settings
from dive.policy.registry_feed import RegistryFeed
from dive.service.app import create_service_app
from dive.service.decision_log import DecisionLogWriter
from dive.service.settings import ServiceSettings
from dive.store.engine import create_engine_for, session_factory, writer_session_factory
from dive.store.migrate import check_schema, ensure_schema

__all__ = ["create_app"]

VERSION: Final = "1.0.0"


def _prepare_database(settings: ServiceSettings) -> None:
    """An embedded database is created on first use (a standalone `dive serve pdp` just works); a server
    database is migrated by the deployer, so the service only checks it is at head."""
    if settings.database_url.startswith("sqlite"):
        ensure_schema(settings.database_url, lock_dir=settings.home / "locks")
    else:
        check_schema(settings.database_url)


def create_app(settings: ServiceSettings) -> FastAPI:
    pdp_settings = load_pdp_settings(settings)
    _prepare_database(settings)
    database = create_engine_for(settings.database_url)
    bundle = PolicyBundle.load()
    engine = RegopyEngine(bundle, extra_modules=read_extra_modules(pdp_settings.extra_policy_dir))
    feed = RegistryFeed(
        sessions=session_factory(database),
        engine=engine,
        static_data=dict(bundle.static_data),
        own_code=settings.instance_code,
        own_issuer=pdp_settings.issuer,
        production=settings.env == "production",
    )
    feed.refresh()

    async def database_ready() -> None:
        await anyio.to_thread.run_sync(feed.refresh)

    def health_extra() -> Mapping[str, object]:
        return {
            "policy": {"version": POLICY_VERSION, "revision": engine.revision()},
            "registryVersion": feed.version,
        }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app.state.pdp.running(pdp_settings.registry_poll_s):
            yield
        database.dispose()

    app = create_service_app(
        settings,
        title="DIVE policy decision point",
        version=VERSION,
        readiness_checks={"database": database_ready},
        lifespan=lifespan,
        health_extra=health_extra,
        max_body_bytes=pdp_settings.max_body_bytes,
    )
    app.state.pdp_settings = pdp_settings
    app.state.pdp = PdpRuntime(
        engine=engine,
        feed=feed,
        decision_log=DecisionLogWriter(
            writer_session_factory(database),
            registry=app.state.metrics.registry,
            instance_code=settings.instance_code,
            service="pdp",
        ),
        extra_policy_dir=pdp_settings.extra_policy_dir,
        instance_code=settings.instance_code,
        registry=app.state.metrics.registry,
        threads=pdp_settings.engine_threads,
    )
    app.include_router(router)
    return app
