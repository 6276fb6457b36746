"""The KAS service: routes only (spec/ztdf-kas.md §7); the steps live in `rewrap`, `srt`, `request` and the shared
`dive.tokens` verifier."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

import anyio
import httpx
from fastapi import FastAPI
from joserfc.jwk import RSAKey
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dive.kas.audit import AuditSink
from dive.kas.errors import CONNECT_CODES, AuthenticationError, KasError, KasUnavailableError, RequestInvalidError
from dive.kas.key_store import KasKeyStore
from dive.kas.metrics import KasMetrics
from dive.kas.public_key import public_key_answer
from dive.kas.rate_limit import RateLimiter
from dive.kas.request import parse_envelope, parse_request_body
from dive.kas.rewrap import RequestContext, RewrapService
from dive.kas.settings import KasSettings, load_kas_settings
from dive.kas.srt import check_srt_time, read_srt, verify_srt_signature
from dive.kas.unwrap import DekCache
from dive.observability.context import current_request_id
from dive.pki import ssl_context_for
from dive.policy.bundle import PolicyBundle
from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.registry_feed import RegistryFeed
from dive.secrets import LocalKeystore
from dive.service import (
    PayloadTooLargeError,
    ServiceFactoryError,
    ServiceSettings,
    create_service_app,
    read_body_limited,
)
from dive.store import StoreError, check_schema, create_engine_for, session_factory, writer_session_factory
from dive.tokens import TokenCheckUnavailableError, TokenError, TokenVerifier, VerifiedToken

__all__ = ["create_app"]

VERSION: Final = "1.0.0"
_REWRAP_BODY_SCHEMA: Final = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"signedRequestToken": {"type": "string", "maxLength": 4096}},
                    "required": ["signedRequestToken"],
                }
            }
        },
    },
    "responses": {
        "200": {"description": "One result per KAO"},
        "400": {"description": "Malformed request"},
        "401": {"description": "Not authenticated"},
    },
}
_PUBLIC_KEY_BODY_SCHEMA: Final = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"algorithm": {"type": "string"}, "fmt": {"type": "string"}, "v": {"type": "string"}},
                }
            }
        }
    }
}

log = logging.getLogger("dive.kas")


class _Kas:
    """Everything the routes share; built once in `create_app`, resources opened in the lifespan."""

    def __init__(self, service: ServiceSettings, settings: KasSettings, registry: CollectorRegistry) -> None:
        self.service, self.settings = service, settings
        database = create_engine_for(service.database_url)
        self.db = database
        sessions = session_factory(database)
        self.keys = KasKeyStore(
            home=service.home,
            code=service.instance,
            sessions=writer_session_factory(database),
            secrets=LocalKeystore(service.home),
            kas_url=f"{settings.public_base_url}/kas",
        )
        self.ring = self.keys.load_ring()
        self.bundle = PolicyBundle.load()
        self.engine = RegopyEngine(self.bundle)
        self.feed = RegistryFeed(
            sessions=sessions,
            engine=self.engine,
            static_data=dict(self.bundle.static_data),
            own_code=settings.instance_code,
            own_issuer=settings.own_issuer,
            production=service.env == "production",
            on_reload=self._registry_changed,
        )
        self.metrics = KasMetrics(registry, settings.instance_code)
        self.audit = AuditSink(
            writer_session_factory(database),
            service.home / "instances" / service.instance / "kas" / "audit-spool.jsonl",
            on_spooled=lambda count: self.metrics.audit_spooled.inc(count),
        )
        self.ip_limiter = RateLimiter(settings.ip_rate, settings.ip_burst)
        self.subject_limiter = RateLimiter(settings.subject_rate, settings.subject_burst)
        self.cache = DekCache(settings.dek_cache_size, settings.dek_cache_ttl_s)
        self.verifier: TokenVerifier | None = None
        self.service_rewrap: RewrapService | None = None

    async def check_keys(self) -> None:
        if self.ring.active.private_key is None:
            raise KasUnavailableError("kas_no_active_key", "no active key is loaded")

    async def check_audit(self) -> None:
        if not self.audit.available:
            raise KasUnavailableError("audit_unavailable", "audit records cannot be written")

    async def check_engine(self) -> None:
        await anyio.to_thread.run_sync(self.engine.revision)

    def health_extra(self) -> dict[str, object]:
        return {
            "kasId": self.settings.kas_id,
            "keys": {"active": self.ring.active.kid, "retired": self.ring.count("retired")},
            "auditSpool": self.audit.spooled,
        }

    def _registry_changed(self, version: int, revision: str) -> None:
        """The feed reloaded the engine's `data.dive`; key changes bump the registry version too (§10)."""
        try:
            self.ring = self.keys.load_ring()
        except KasError as exc:
            log.error("key reload failed; keeping the loaded keys", extra={"error": exc.code})
        self.metrics.set_keys(self.ring.count("active"), self.ring.count("retired"), self.ring.count("revoked"))


def create_app(settings: ServiceSettings) -> FastAPI:
    kas_settings = load_kas_settings(settings)
    registry = CollectorRegistry()
    try:
        check_schema(settings.database_url)
        kas = _Kas(settings, kas_settings, registry)
        kas.feed.refresh()
    except (KasError, StoreError) as exc:
        raise ServiceFactoryError("service_unavailable", f"the KAS cannot start: {exc}") from exc
    app = create_service_app(
        settings,
        title="DIVE V3 Key Access Service",
        version=VERSION,
        max_body_bytes=None,
        registry=registry,
        lifespan=_lifespan(kas),
        readiness_checks={"keys": kas.check_keys, "audit": kas.check_audit, "pdp": kas.check_engine},
        health_extra=kas.health_extra,
    )
    app.state.kas = kas
    _install(app, kas)
    return app


def _lifespan(kas: _Kas) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(verify=ssl_context_for(kas.service.ca_bundle)) as http:
            kas.verifier = TokenVerifier(
                issuers=kas.feed.trusted_issuers,
                http=http,
                audience=kas.settings.audience,
                on_jwks_fetch=lambda result: kas.metrics.count_jwks_fetch(result),
            )
            kas.service_rewrap = RewrapService(
                settings=kas.settings,
                ring=lambda: kas.ring,
                engine=kas.engine,
                cache=kas.cache,
                metrics=kas.metrics,
                audit=kas.audit,
                limiter=anyio.CapacityLimiter(kas.settings.crypto_threads),
            )
            await kas.audit.start()
            try:
                yield
            finally:
                await kas.audit.stop()
                kas.db.dispose()

    return lifespan


def _install(app: FastAPI, kas: _Kas) -> None:
    app.add_exception_handler(KasError, _kas_error)  # type: ignore[arg-type]

    async def rewrap(request: Request) -> Response:
        return await _rewrap(request, kas, connect=False)

    async def rewrap_connect(request: Request) -> Response:
        return await _rewrap(request, kas, connect=True)

    async def public_key(request: Request) -> Response:
        q = request.query_params
        answer = public_key_answer(
            kas.ring, algorithm=q.get("algorithm", ""), fmt=q.get("fmt", ""), version=q.get("v", "2")
        )
        return JSONResponse(answer)

    async def public_key_legacy(request: Request) -> Response:
        return JSONResponse(public_key_answer(kas.ring, algorithm="", fmt="pkcs8", version="1")["publicKey"])

    async def public_key_connect(request: Request) -> Response:
        _check_connect_type(request)
        raw = await _body(request, 64 * 1024)
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise RequestInvalidError("request_invalid", "the request body is not JSON") from exc
        if not isinstance(body, dict):
            raise RequestInvalidError("request_invalid", "the request body is not a JSON object")
        fields = {name: body.get(name) for name in ("algorithm", "fmt", "v")}
        if not all(value is None or isinstance(value, str) for value in fields.values()):
            raise RequestInvalidError("request_invalid", "algorithm, fmt and v must be strings")
        answer = public_key_answer(
            kas.ring, algorithm=fields["algorithm"] or "", fmt=fields["fmt"] or "", version=fields["v"] or "2"
        )
        return JSONResponse(answer)

    app.add_api_route("/kas/v2/kas_public_key", public_key, methods=["GET"])
    app.add_api_route("/kas/kas_public_key", public_key_legacy, methods=["GET"])
    app.add_api_route(
        "/kas.AccessService/PublicKey", public_key_connect, methods=["POST"], openapi_extra=_PUBLIC_KEY_BODY_SCHEMA
    )
    app.add_api_route("/kas/v2/rewrap", rewrap, methods=["POST"], openapi_extra=_REWRAP_BODY_SCHEMA)
    app.add_api_route("/kas.AccessService/Rewrap", rewrap_connect, methods=["POST"], openapi_extra=_REWRAP_BODY_SCHEMA)


async def _kas_error(request: Request, exc: KasError) -> JSONResponse:
    body = {
        "code": CONNECT_CODES.get(exc.status, "unknown"),
        "message": exc.message,
        "error": exc.code,
        "requestId": getattr(request.state, "request_id", None) or current_request_id(),
    }
    headers = {}
    if exc.status == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after_s", 1))
    elif exc.status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _check_connect_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise KasError(
            "unsupported_media_type", f"Content-Type {media or '(none)'} is not application/json", status=415
        )


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await read_body_limited(request, limit)
    except PayloadTooLargeError as exc:
        raise KasError("request_too_large", f"the request body exceeds {limit} bytes", status=413) from exc


async def _rewrap(request: Request, kas: _Kas, *, connect: bool) -> Response:
    started = time.perf_counter()
    try:
        answer = await _rewrap_steps(request, kas, connect=connect, started=started)
    except KasError as exc:
        kas.metrics.count_request_error(exc.code)
        raise
    finally:
        kas.metrics.seconds.observe(time.perf_counter() - started)
    return JSONResponse(answer)


async def _rewrap_steps(request: Request, kas: _Kas, *, connect: bool, started: float) -> dict[str, object]:
    """§8 steps 1–10, then the per-KAO and per-group steps of `RewrapService`."""
    settings = kas.settings
    raw = await _body(request, settings.max_request_bytes)
    if connect or request.headers.get("content-type"):
        _check_connect_type(request)
    client_ip = request.client.host if request.client else "unknown"
    kas.ip_limiter.take(client_ip, "client address")
    token_field = parse_envelope(raw)
    if kas.verifier is None or kas.service_rewrap is None:
        raise KasUnavailableError("service_unavailable", "the KAS is starting; retry shortly")
    verified = await _verify_token(kas.verifier, request.headers.get("authorization"))
    kas.subject_limiter.take(f"{verified.claims.get('iss')}|{verified.claims.get('sub')}", "subject")
    _refuse_dpop(request, verified)
    srt = read_srt(token_field)
    check_srt_time(srt, now=time.time(), max_age_s=settings.srt_max_age_s)
    body = parse_request_body(
        srt.request_body, max_policies=settings.max_policies_per_request, max_kaos=settings.max_kaos_per_request
    )
    if settings.srt_verification == "strict":
        verify_srt_signature(srt, RSAKey.import_key(body.client_public_key_pem))
    if not kas.audit.available:
        raise KasUnavailableError("audit_unavailable", "audit records cannot be written; no key is released")
    ctx = RequestContext(
        request_id=getattr(request.state, "request_id", None),
        source_ip=client_ip,
        user_agent=request.headers.get("user-agent"),
        started=started,
    )
    return await kas.service_rewrap.rewrap(body, verified, ctx)


# The KAS's own 401 codes (§7.6) for the shared verifier's reasons; every other rejection is `token_invalid`.
_TOKEN_CODES: Final = {
    "missing_token": "token_missing",
    "expired": "token_expired",
    "issuer_not_trusted": "issuer_not_trusted",
}


async def _verify_token(verifier: TokenVerifier, authorization: str | None) -> VerifiedToken:
    try:
        return await verifier.verify(authorization)
    except TokenCheckUnavailableError as exc:
        raise KasUnavailableError("service_unavailable", exc.message) from exc
    except TokenError as exc:
        raise AuthenticationError(_TOKEN_CODES.get(exc.code, "token_invalid"), exc.message) from exc


def _refuse_dpop(request: Request, verified: VerifiedToken) -> None:
    """DPoP (§7.4 step 5) is not implemented: a proof or a bound token fails closed rather than being ignored."""
    cnf = verified.claims.get("cnf")
    if "dpop" in request.headers or (isinstance(cnf, dict) and "jkt" in cnf):
        raise AuthenticationError("dpop_invalid", "DPoP-bound requests are not supported by this KAS")
