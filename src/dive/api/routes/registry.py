"""Federation registry and KAS registry (identity-api-ui §B.7; CONSISTENCY #13, #14, #16).

Every mutation is authenticated first, then authorised (admin key, or `dive-admin` of the own realm; an enrolment
token for the `register` routes of its own code; the spoke token for its own heartbeat). Writes go through the
registry repository, which bumps `registry_version`, so every engine host and verifier sees the change within 5 s.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Final, TypeVar

import anyio
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Body
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive import catalog
from dive.api.auth import Principal
from dive.api.enrolment import (
    ENROLMENT_TOKEN_HEADER,
    EnrolmentGrant,
    authenticate_enrolment,
    authorise_enrolment,
    consume_enrolment,
)
from dive.api.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, TokenInvalidError
from dive.api.registry_views import kas_json, spoke_json
from dive.api.routes.common import runtime
from dive.api.runtime import ApiRuntime
from dive.secrets import LocalKeystore
from dive.store import FederationRegistryRepository, RecordInvalidError
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.store.models.registry import FederationSpoke
from dive.tokens import own_jwks_uri

__all__ = ["router"]

router = APIRouter()
T = TypeVar("T")
SPOKE_TOKEN_HEADER: Final = "x-dive-spoke-token"
_TRANSITIONS: Final = {
    "approve": ({"pending", "suspended"}, "approved"),
    "suspend": ({"approved"}, "suspended"),
    "revoke": ({"pending", "approved", "suspended"}, "revoked"),
}
_REGISTER_FIELDS: Final = ("instanceCode", "apiUrl", "webUrl", "idpUrl", "issuer", "kasUrl")
JsonBody = Annotated[dict[str, Any], Body()]


async def _write(api: ApiRuntime, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with api.writer_sessions.begin() as session:
            result = work(session)
        api.feed.refresh()  # abac §8.4: a change made here takes effect here at once, elsewhere within 5 s
        return result

    try:
        return await anyio.to_thread.run_sync(run)
    except RecordInvalidError as exc:
        raise InvalidRequestError(str(exc)) from exc


async def _read(api: ApiRuntime, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with api.sessions() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


@router.get("/api/federation/metadata", summary="What a partner needs to start federating")
async def metadata(request: Request) -> JSONResponse:
    api = runtime(request)
    shift = catalog.port_shift(api.service.environ)
    host, code = api.service.public_host, api.service.instance
    return JSONResponse(
        {
            "instanceCode": api.settings.instance_code,
            "name": catalog.instance(code).name if catalog.is_catalog_code(code) else api.settings.instance_code,
            "role": "hub" if code == "usa" else "spoke",
            "issuer": api.settings.own_issuer,
            "jwksUri": own_jwks_uri(api.settings.own_issuer),
            "apiUrl": f"https://{host}:{api.service.port}",
            "webUrl": f"https://{host}:{catalog.port(code, 'web', shift=shift)}",
            "kasUrl": api.kas.own_url(code),
            "version": request.app.version,
        }
    )


@router.get("/api/federation/trusted-issuers", summary="The trusted issuers, own realm first")
async def trusted_issuers(request: Request) -> JSONResponse:
    api = runtime(request)
    await api.auth.require_admin(request)
    issuers = await api.feed.trusted_issuers()
    spokes = {s.issuer: s for s in await _read(api, FederationRegistryRepository().list_spokes)}
    ordered = sorted(issuers.values(), key=lambda t: (t.issuer != api.settings.own_issuer, t.instance_code))
    return JSONResponse(
        [
            {
                "issuer": t.issuer,
                "instanceCode": t.instance_code,
                "jwksUri": t.jwks_uri,
                "status": spokes[t.issuer].status if t.issuer in spokes else "approved",
                "trustLevel": spokes[t.issuer].trust_level if t.issuer in spokes else "national",
                "allowedClients": list(t.allowed_clients or api.settings.default_clients(t.instance_code)),
            }
            for t in ordered
        ]
    )


@router.get("/api/federation/spokes", summary="Every registry record")
async def list_spokes(request: Request) -> JSONResponse:
    api = runtime(request)
    await api.auth.require_admin(request)
    spokes = await _read(api, FederationRegistryRepository().list_spokes)
    return JSONResponse({"spokes": [spoke_json(spoke) for spoke in spokes]})


@router.get("/api/federation/spokes/{code}", summary="One registry record")
async def get_spoke(request: Request, code: str) -> JSONResponse:
    """An admin credential, or the spoke token of `code` itself (CONSISTENCY #13: a spoke polls its own record)."""
    api = runtime(request)
    spoke_token = _spoke_token_instead_of_admin(request, api)
    if spoke_token is None:
        await api.auth.require_admin(request)

    def read(session: Session) -> FederationSpoke:
        if spoke_token is None:
            return _spoke(session, code)
        try:
            spoke = _spoke(session, code)
        except NotFoundError as exc:  # a spoke token reveals nothing about other codes
            raise ForbiddenError("insufficient_role", f"This spoke token is not valid for {code[:3].upper()}.") from exc
        _verify_spoke_token(spoke, spoke_token)
        return spoke

    return JSONResponse(spoke_json(await _read(api, read)))


@router.post("/api/federation/register", summary="Register a partner instance")
async def register(request: Request, body: JsonBody) -> JSONResponse:
    """The admin credential, or an enrolment token of the body's code (CONSISTENCY #13), which this consumes."""
    api = runtime(request)
    grant = await _enrolment_grant(request, api)
    principal = None if grant is not None else await api.auth.require_admin(request)
    missing = [name for name in _REGISTER_FIELDS if not isinstance(body.get(name), str) or not body[name]]
    code = str(body.get("instanceCode", "")).lower()
    if missing or (not catalog.is_catalog_code(code) and not catalog.is_test_code(code)):
        raise InvalidRequestError(f"the registration lacks or has invalid: {', '.join(missing) or 'instanceCode'}")
    if grant is not None:
        authorise_enrolment(grant, code)
    # orchestration A1: with an enrolment token, only one issued with --auto-approve approves.
    approve = grant.auto_approve if grant is not None else body.get("approve") is True
    approver = _actor(principal) if grant is None else "enrolment-token"
    secret = _federation_secret(body)

    def work(session: Session) -> tuple[FederationSpoke, str | None, int]:
        if grant is not None:
            consume_enrolment(session, grant)
        repository = FederationRegistryRepository()
        existing = repository.get_spoke(session, code)
        if existing is not None and existing.status != "revoked":
            if existing.status == "pending":
                _apply_urls(existing, body)
                if approve:
                    _auto_approve(session, existing, approver, api.settings.instance_code)
                repository.save_spoke(session, existing)
            return existing, None, 200
        token = secrets.token_urlsafe(32)
        spoke = FederationSpoke(
            code=code,
            spoke_id=f"spoke-{code}-{secrets.token_hex(4)}",
            name=str(body.get("name") or code.upper()),
            role="hub" if code == "usa" else "spoke",
            kind="remote",
            status="pending",
            version=str(body.get("version") or ""),
            spoke_token_hash=hashlib.sha256(token.encode()).hexdigest(),
            ca_bundle_pem=body.get("caBundlePem") if isinstance(body.get("caBundlePem"), str) else None,
        )
        _apply_urls(spoke, body)
        if existing is not None:
            repository.delete_spoke(session, code)
        saved = repository.save_spoke(session, spoke)
        if approve:
            _auto_approve(session, saved, approver, api.settings.instance_code)
        return saved, token, 201

    spoke, token, status = await _write(api, work)
    if secret is not None and (status == 201 or spoke.status == "pending"):
        await anyio.to_thread.run_sync(_store_pair_secret, api, code, secret)
    answer: dict[str, object] = {"spoke": spoke_json(spoke)}
    if token is not None:
        answer["spokeToken"] = token
    return JSONResponse(answer, status_code=status)


def _federation_secret(body: dict[str, Any]) -> str | None:
    """orchestration §8.2 step 3: the pair secret a spoke on another host sends (absent with a shared keystore)."""
    secret = body.get("federationSecret")
    if secret is None:
        return None
    if not isinstance(secret, str) or len(secret) < 24 or not secret.isprintable() or " " in secret:
        raise InvalidRequestError("federationSecret must be a printable secret of at least 24 characters")
    return secret


def _store_pair_secret(api: ApiRuntime, code: str, secret: str) -> None:
    """The hub keeps the pair secret as `_federation/<a>-<b>`; `dive federation approve` links with it."""
    first, second = sorted((api.service.instance, code))
    LocalKeystore(api.service.home).put(f"_federation/{first}-{second}", secret, overwrite=True)


@router.post("/api/federation/spokes/{code}/{action}", summary="approve, suspend, revoke or heartbeat")
async def spoke_action(request: Request, code: str, action: str, body: JsonBody) -> JSONResponse:
    api = runtime(request)
    if action == "heartbeat":
        return await _heartbeat(request, api, code, body)
    if action not in _TRANSITIONS:
        raise NotFoundError(f"There is no spoke action {action!r}.")
    actor = _actor(await api.auth.require_admin(request))

    def work(session: Session) -> FederationSpoke:
        spoke = _spoke(session, code)
        if action == "approve":
            spoke.trust_level = _choice(body.get("trustLevel"), ("development", "partner", "bilateral", "national"))
            spoke.max_classification = body.get("maxClassification") or spoke.max_classification or "SECRET"
        reason = body.get("reason")
        if action == "suspend":
            spoke.suspended_reason = str(reason or "")
        if action == "revoke":
            spoke.revoked_reason, spoke.spoke_token_hash = str(reason or ""), None
        _transition(session, spoke, action, actor=actor, own=api.settings.instance_code)
        return spoke

    return JSONResponse({"spoke": spoke_json(await _write(api, work))})


async def _heartbeat(request: Request, api: ApiRuntime, code: str, body: dict[str, Any]) -> JSONResponse:
    presented = request.headers.get(SPOKE_TOKEN_HEADER)
    if not api.auth.has_admin_key(request) and not presented:
        raise TokenInvalidError("missing_token", "A spoke token (X-DIVE-Spoke-Token) or the admin key is required.")

    def work(session: Session) -> FederationSpoke:
        spoke = _spoke(session, code)
        if not api.auth.has_admin_key(request):
            _verify_spoke_token(spoke, presented or "")
        spoke.last_heartbeat = datetime.now(UTC)
        if isinstance(body.get("version"), str):
            spoke.version = body["version"]
        return spoke

    spoke = await _write(api, work)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return JSONResponse({"status": spoke.status, "serverTime": now, "policyRevision": api.pep.engine.revision()})


@router.get("/api/kas/registry", summary="The KAS registry with each KAS's public keys")
async def kas_registry(request: Request) -> JSONResponse:
    api = runtime(request)
    spoke_token = _spoke_token_instead_of_admin(request, api)
    if spoke_token is None and not api.auth.has_admin_key(request):
        await api.auth.authenticate(request)

    def read(session: Session) -> list[dict[str, object]]:
        if spoke_token is not None:  # CONSISTENCY #13: a remote spoke syncs its copy with its spoke token (C7)
            _spoke_holding(session, spoke_token)
        entries = list(session.scalars(select(KasRegistryEntry).order_by(KasRegistryEntry.kas_id)))
        keys = list(session.scalars(select(KasRegistryKey).order_by(KasRegistryKey.id)))
        return [kas_json(entry, [k for k in keys if k.kas_id == entry.kas_id]) for entry in entries]

    return JSONResponse({"kasServers": await _read(api, read)})


@router.post("/api/kas/register", summary="Register or update a KAS and its public keys")
async def kas_register(request: Request, body: JsonBody) -> JSONResponse:
    api = runtime(request)
    grant = await _enrolment_grant(request, api)
    spoke_token = None if grant is not None else _spoke_token_instead_of_admin(request, api)
    principal = None if grant or spoke_token else await api.auth.require_admin(request)
    kas_id, code, url = body.get("kasId"), str(body.get("instanceCode", "")).lower(), body.get("kasUrl")
    keys = body.get("publicKeys")
    if not (isinstance(kas_id, str) and isinstance(url, str) and isinstance(keys, list) and keys):
        raise InvalidRequestError("kasId, instanceCode, kasUrl and a non-empty publicKeys list are required")
    if kas_id != catalog.kas_id(code or "xxx"):
        raise InvalidRequestError(f"kasId {kas_id!r} does not name the KAS of {code.upper()!r} (<code>-kas)")
    if grant is not None:
        authorise_enrolment(grant, code)  # with the kasId check above: `<code>-kas` of the token's code only
    parsed = [_public_key(item) for item in keys]
    approve = body.get("approve") is True and principal is not None

    def work(session: Session) -> tuple[KasRegistryEntry, list[KasRegistryKey], int]:
        if spoke_token is not None:  # CONSISTENCY #13: a spoke re-registers its own KAS (key rotation)
            _verify_spoke_token(_spoke(session, code), spoke_token)
        entry = session.get(KasRegistryEntry, kas_id)
        status = 200 if entry is not None else 201
        if entry is None:
            entry = KasRegistryEntry(kas_id=kas_id, instance_code=code, url=url, status="pending")
            session.add(entry)
        if approve and entry.status == "pending":
            entry.status = "approved"
        session.query(KasRegistryKey).filter(KasRegistryKey.kas_id == kas_id).delete()
        session.flush()
        rows = [KasRegistryKey(kas_id=kas_id, **values) for values in parsed]
        session.add_all(rows)
        session.flush()
        FederationRegistryRepository().bump_version(session)
        return entry, rows, status

    entry, rows, status = await _write(api, work)
    return JSONResponse(kas_json(entry, rows), status_code=status)


@router.post("/api/kas/registry/{kas_id}/{action}", summary="approve or suspend a KAS")
async def kas_action(request: Request, kas_id: str, action: str) -> JSONResponse:
    api = runtime(request)
    if action not in ("approve", "suspend"):
        raise NotFoundError(f"There is no KAS action {action!r}.")
    await api.auth.require_admin(request)

    def work(session: Session) -> tuple[KasRegistryEntry, list[KasRegistryKey]]:
        entry = session.get(KasRegistryEntry, kas_id[:32])
        if entry is None:
            raise NotFoundError(f"There is no KAS {kas_id[:32]!r} in the registry.")
        entry.status = "approved" if action == "approve" else "suspended"
        FederationRegistryRepository().bump_version(session)
        keys = list(session.scalars(select(KasRegistryKey).where(KasRegistryKey.kas_id == entry.kas_id)))
        return entry, keys

    entry, keys = await _write(api, work)
    return JSONResponse(kas_json(entry, keys))


async def _enrolment_grant(request: Request, api: ApiRuntime) -> EnrolmentGrant | None:
    """The live enrolment token presented instead of any admin credential; None when an admin credential (or none
    at all) is presented, so `require_admin` answers as before."""
    presented = request.headers.get(ENROLMENT_TOKEN_HEADER)
    if not presented or api.auth.has_admin_key(request) or "authorization" in request.headers:
        return None
    return await _read(api, lambda session: authenticate_enrolment(session, presented))


def _spoke_token_instead_of_admin(request: Request, api: ApiRuntime) -> str | None:
    presented = request.headers.get(SPOKE_TOKEN_HEADER)
    if not presented or api.auth.has_admin_key(request) or "authorization" in request.headers:
        return None
    return presented


def _verify_spoke_token(spoke: FederationSpoke, presented: str) -> None:
    """The spoke token of `spoke` (stored as its SHA-256), compared in constant time; a revoked spoke has none."""
    digest = hashlib.sha256(presented.encode()).hexdigest()
    if not spoke.spoke_token_hash or not hmac.compare_digest(digest, spoke.spoke_token_hash):
        raise ForbiddenError("insufficient_role", f"This spoke token is not valid for {spoke.code.upper()}.")


def _spoke_holding(session: Session, presented: str) -> FederationSpoke:
    """The unrevoked spoke whose token is `presented`; 403 otherwise."""
    digest = hashlib.sha256(presented.encode()).hexdigest()
    spoke = session.scalars(select(FederationSpoke).where(FederationSpoke.spoke_token_hash == digest)).first()
    if spoke is None or spoke.status == "revoked":
        raise ForbiddenError("insufficient_role", "This spoke token is not valid at this hub.")
    return spoke


def _actor(principal: Principal | None) -> str:
    return "admin-key" if principal is None else str(principal.claims.get("uniqueID"))


def _spoke(session: Session, code: str) -> FederationSpoke:
    try:
        spoke = FederationRegistryRepository().get_spoke(session, code)
    except RecordInvalidError:
        spoke = None
    if spoke is None:
        raise NotFoundError(f"There is no registry record for {code[:3].upper()!r}.")
    return spoke


def _apply_urls(spoke: FederationSpoke, body: dict[str, Any]) -> None:
    spoke.api_url, spoke.web_url, spoke.idp_url = body["apiUrl"], body["webUrl"], body["idpUrl"]
    spoke.issuer, spoke.kas_url = body["issuer"], body["kasUrl"]
    spoke.jwks_uri = own_jwks_uri(body["issuer"])


def _transition(session: Session, spoke: FederationSpoke, action: str, *, actor: str, own: str) -> None:
    allowed, target = _TRANSITIONS[action]
    if spoke.status not in allowed:
        raise ConflictError(f"{spoke.code.upper()} is {spoke.status}; it cannot be {target}.")
    repository = FederationRegistryRepository()
    spoke.status = target
    if target == "approved":
        spoke.approved_at, spoke.approved_by = datetime.now(UTC), actor
        repository.set_matrix_pair(session, own, spoke.code, source="approval")
    else:
        repository.remove_matrix_pair(session, own, spoke.code)
    kas = session.get(KasRegistryEntry, catalog.kas_id(spoke.code))
    if kas is not None:
        kas.status = "approved" if target == "approved" else "suspended"
    repository.save_spoke(session, spoke)


def _auto_approve(session: Session, spoke: FederationSpoke, actor: str, own: str) -> None:
    """orchestration §8.2 hub side step 1: auto-approval declares `national` and `TOP_SECRET`, so every local test
    user works; the realm halves are written by the deploying CLI on this host (docs/decisions.md)."""
    spoke.trust_level, spoke.max_classification = "national", "TOP_SECRET"
    _transition(session, spoke, "approve", actor=actor, own=own)


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidRequestError(f"trustLevel must be one of {', '.join(allowed)}")
    return str(value)


def _public_key(item: object) -> dict[str, str]:
    """CONSISTENCY #14: `{kid, alg: rsa:2048, publicKey (PEM)}`; the fingerprint is computed, not trusted."""
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("kid", "publicKey")):
        raise InvalidRequestError("each publicKeys item needs a kid and a PEM publicKey")
    try:
        key = serialization.load_pem_public_key(item["publicKey"].encode())
    except ValueError as exc:
        raise InvalidRequestError(f"the public key {item['kid']!r} is not a PEM public key") from exc
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "kid": item["kid"][:64],
        "algorithm": "rsa:2048",
        "public_key_pem": item["publicKey"],
        "fingerprint": hashlib.sha256(der).hexdigest(),
        "status": "active" if item.get("status", "active") == "active" else str(item.get("status"))[:8],
    }
