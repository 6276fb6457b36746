"""`create_app(settings)` for `dive serve api`: the backend PEP (identity-api-ui §B) wired from its parts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

import anyio
import httpx
import redis
import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from dive.api.auth import Authenticator
from dive.api.circuit import CircuitBreakers
from dive.api.federated import FederatedSearch
from dive.api.kas_gateway import KasGateway
from dive.api.kas_registry import KasDirectory
from dive.api.metrics import ApiMetrics
from dive.api.partners import PartnerDirectory
from dive.api.pep import Pep
from dive.api.revocation import DatabaseRevocations, RedisRevocations, RevocationList
from dive.api.routes import audit_router, identity_router, registry_router, resources_router
from dive.api.runtime import ApiRuntime
from dive.api.search import Searcher
from dive.api.settings import AUDIENCE, ApiSettings, load_api_settings
from dive.observability.deployment_metrics import register_deployment_metrics
from dive.pki import TrustStore
from dive.policy.bundle import POLICY_VERSION, PolicyBundle
from dive.policy.cache import CachedEngine, DecisionCache, InProcessDecisionCache
from dive.policy.cache_redis import RedisDecisionCache
from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.registry_feed import RegistryFeed, poll
from dive.service import ServiceFactoryError, ServiceSettings, create_service_app
from dive.service.decision_log import DecisionLogWriter
from dive.store import (
    StoreError,
    check_schema,
    create_engine_for,
    ensure_schema,
    session_factory,
    writer_session_factory,
)
from dive.tokens import TokenVerifier, TrustedIssuer

__all__ = ["create_app"]

VERSION: Final = "1.0.0"
MULTIPART_OVERHEAD: Final = 64 * 1024


def create_app(settings: ServiceSettings) -> FastAPI:
    api_settings = load_api_settings(settings)
    registry = CollectorRegistry()
    try:
        _prepare_database(settings)
        api = _build(settings, api_settings, registry)
        register_deployment_metrics(registry, settings.environ, settings.home, settings.database_url)  # orch §12.1
    except StoreError as exc:
        raise ServiceFactoryError("service_unavailable", f"the api cannot start: {exc}") from exc

    async def database_ready() -> None:
        await anyio.to_thread.run_sync(api.feed.refresh)

    async def policy_ready() -> None:
        await anyio.to_thread.run_sync(api.pep.engine.revision)

    async def issuers_ready() -> None:
        await api.feed.trusted_issuers()

    app = create_service_app(
        settings,
        title="DIVE V3 backend API",
        version=VERSION,
        readiness_checks={"database": database_ready, "policy": policy_ready, "trustedIssuers": issuers_ready},
        lifespan=_lifespan(api),
        health_extra=lambda: {"policy": {"version": POLICY_VERSION, "revision": api.pep.engine.revision()}},
        health_prefixes=("/api/health", "/health"),
        max_body_bytes=api_settings.upload_max_bytes + MULTIPART_OVERHEAD,
        registry=registry,
    )
    app.state.api = api
    for router in (identity_router, resources_router, registry_router, audit_router):
        app.include_router(router)
    return app


def _prepare_database(settings: ServiceSettings) -> None:
    """An embedded database is created on first use; a server database is migrated by the deployer."""
    if settings.database_url.startswith("sqlite"):
        ensure_schema(settings.database_url, lock_dir=settings.home / "locks")
    else:
        check_schema(settings.database_url)


def _build(service: ServiceSettings, settings: ApiSettings, registry: CollectorRegistry) -> ApiRuntime:
    metrics = ApiMetrics(registry, settings.instance_code)
    database = create_engine_for(service.database_url)
    sessions, writer_sessions = session_factory(database), writer_session_factory(database)
    bundle = PolicyBundle.load()
    raw_engine = RegopyEngine(bundle)
    engine = CachedEngine(raw_engine, _decision_cache(service))
    kas = KasDirectory(sessions)
    partners = PartnerDirectory(sessions, settings.instance_code)
    trust = TrustStore(service.ca_bundle)  # identity-api-ui Amendment 3: a partner CA arrives with a registry change

    def registry_changed(version: int, revision: str) -> None:
        trust.refresh()
        kas.reload(version)
        partners.reload()

    feed = RegistryFeed(
        sessions=sessions,
        engine=engine,
        static_data=dict(bundle.static_data),
        own_code=settings.instance_code,
        own_issuer=settings.own_issuer,
        production=service.env == "production",
        on_reload=registry_changed,
    )
    feed.refresh()
    audit = DecisionLogWriter(writer_sessions, registry=registry, instance_code=settings.instance_code, service="api")
    pep = Pep(engine=engine, threads=settings.engine_threads, audit=audit, instance_code=settings.instance_code)
    pep.warm_up()
    searcher = Searcher(sessions=sessions, pep=pep, feed=feed, instance_code=settings.instance_code, metrics=metrics)
    context = trust.context
    http = httpx.AsyncClient(verify=context, limits=httpx.Limits(max_connections=200))
    verifier = TokenVerifier(
        issuers=feed.trusted_issuers,
        http=http,
        audience=AUDIENCE,
        allowed_clients=lambda t: _clients(settings, t),
        require_type=True,
    )
    sync_http = httpx.Client(verify=context, timeout=settings.kas_timeout_s)
    kas_circuits = CircuitBreakers(on_change=lambda name, state: metrics.set_circuit(name, "kas", state))
    return ApiRuntime(
        service=service,
        settings=settings,
        database=database,
        sessions=sessions,
        writer_sessions=writer_sessions,
        feed=feed,
        kas=kas,
        pep=pep,
        searcher=searcher,
        audit=audit,
        metrics=metrics,
        auth=Authenticator(
            verifier=verifier,
            revocations=_revocations(service, sessions),
            own_code=settings.instance_code,
            admin_key=settings.admin_key,
        ),
        gateway=KasGateway(http=sync_http, circuits=kas_circuits, own_kas_url=kas.own_url(service.instance)),
        federated=FederatedSearch(
            own_code=settings.instance_code,
            searcher=searcher,
            pep=pep,
            partners=partners,
            http=http,
            timeout_s=settings.partner_timeout_s,
            cache_ttl_s=settings.fedsearch_cache_ttl_s,
            metrics=metrics,
        ),
        http=http,
        sync_http=sync_http,
    )


def _clients(settings: ApiSettings, trusted: TrustedIssuer) -> tuple[str, ...]:
    return trusted.allowed_clients or settings.default_clients(trusted.instance_code)


def _decision_cache(service: ServiceSettings) -> DecisionCache:
    if service.redis_url is None:
        return InProcessDecisionCache()
    client = redis.Redis.from_url(service.redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
    return RedisDecisionCache(client, prefix=service.redis_prefix)


def _revocations(service: ServiceSettings, sessions: sessionmaker[Session]) -> RevocationList:
    if service.redis_url is not None:
        return RedisRevocations(aioredis.Redis.from_url(service.redis_url, socket_timeout=0.5))
    return DatabaseRevocations(sessions)


def _lifespan(api: ApiRuntime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        api.audit.start()
        poller = asyncio.get_running_loop().create_task(poll(api.feed.refresh), name="registry-poll")
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            await api.audit.close()
            await api.http.aclose()
            api.sync_http.close()
            api.pep.close()
            api.database.dispose()

    return lifespan
