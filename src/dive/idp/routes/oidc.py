"""OpenID Connect endpoints on Keycloak's paths (§A.5): discovery, realm info, JWKS, token, userinfo,
introspection (RFC 7662), revocation (RFC 7009) and back-channel logout."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dive.idp.clients import authenticate_client
from dive.idp.core import IdpCore
from dive.idp.errors import IdpError, OAuthError
from dive.idp.grants import TokenRequest, handle_token_request
from dive.idp.keys import jwks_document, public_key_base64
from dive.idp.logins import end_sso_session
from dive.idp.model import Realm
from dive.idp.oauth.rfc6749 import non_empty
from dive.idp.routes.common import client_ip, core_of, find_realm, in_thread
from dive.idp.sessions import is_session_alive
from dive.idp.tokens import userinfo_claims
from dive.idp.verification import verify_access_token, verify_refresh_token

__all__ = ["CLAIMS_SUPPORTED", "router"]

router = APIRouter()
OIDC = "/realms/{realm}/protocol/openid-connect"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CLAIMS_SUPPORTED = [
    "iss", "sub", "aud", "exp", "iat", "auth_time", "jti", "azp", "sid", "acr", "amr", "typ", "nonce", "at_hash",
    "scope", "preferred_username", "email", "email_verified", "name", "given_name", "family_name", "uniqueID",
    "clearance", "countryOfAffiliation", "organizationType", "acpCOI", "realm_access", "user_acr", "user_amr",
    "identity_provider",
]  # fmt: skip
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@router.get("/realms/{realm}")
async def realm_info(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    key = await in_thread(core.keys.active, found)
    issuer = core.issuer(found)
    return JSONResponse({"realm": found.name, "public_key": public_key_base64(key),
                         "token-service": f"{issuer}/protocol/openid-connect",
                         "account-service": f"{issuer}/account", "tokens-not-before": 0})  # fmt: skip


@router.get("/realms/{realm}/.well-known/openid-configuration")
async def discovery(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    issuer = core.issuer(await in_thread(find_realm, core, realm))
    base = f"{issuer}/protocol/openid-connect"
    return JSONResponse({
        "issuer": issuer,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/certs",
        "userinfo_endpoint": f"{base}/userinfo",
        "end_session_endpoint": f"{base}/logout",
        "introspection_endpoint": f"{base}/token/introspect",
        "revocation_endpoint": f"{base}/revoke",
        "grant_types_supported": ["authorization_code", "refresh_token", "password", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported": CLAIMS_SUPPORTED,
        "acr_values_supported": ["1", "2"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    })  # fmt: skip


@router.get(OIDC + "/certs")
async def certs(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    keys = await in_thread(core.keys.all, found)
    return JSONResponse(jwks_document(keys), headers={"Cache-Control": "max-age=300"})


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post(OIDC + "/token")
async def token(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    token_request = TokenRequest(await _form(request), request.headers.get("authorization"), client_ip(request))
    body = await in_thread(handle_token_request, core, found, token_request, request.app.state.throttle)
    return JSONResponse(body, headers=NO_STORE)


@router.api_route(OIDC + "/userinfo", methods=["GET", "POST"])
async def userinfo(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" and request.method == "POST":
        bearer = (await _form(request)).get("access_token", "")
    try:
        body = await in_thread(_userinfo, core, found, bearer.strip())
    except IdpError as exc:
        challenge = f'Bearer error="invalid_token", error_description="{exc.message}"'
        return JSONResponse({"error": "invalid_token", "error_description": exc.message}, status_code=401,
                            headers={"WWW-Authenticate": challenge})  # fmt: skip
    return JSONResponse(body, headers=NO_STORE)


def _userinfo(core: IdpCore, realm: Realm, bearer: str) -> dict[str, Any]:
    if not bearer:
        raise IdpError("token_missing", "Missing token")
    claims = verify_access_token(core, realm, bearer)
    user = core.directory.user(realm.id, str(claims["sub"]))
    if user is None or not user.enabled:
        raise IdpError("user_not_found", "User not found")
    session = core.store.sso_session(claims["sid"]) if claims.get("sid") else None
    return userinfo_claims(user, session)


@router.post(OIDC + "/token/introspect")
async def introspect(realm: str, request: Request) -> JSONResponse:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    form = non_empty(await _form(request))
    body = await in_thread(_introspect, core, found, request.headers.get("authorization"), form)
    return JSONResponse(body, headers=NO_STORE)


def _introspect(core: IdpCore, realm: Realm, authorization: str | None, form: dict[str, str]) -> dict[str, Any]:
    client = authenticate_client(core, realm, authorization, form, confidential_only=True)
    try:
        claims = verify_access_token(core, realm, form.get("token", ""))
    except IdpError:
        return {"active": False}
    core.event(realm, "INTROSPECT_TOKEN", client_id=client.client_id, user_id=str(claims.get("sub")))
    return {**claims, "active": True, "client_id": claims.get("azp"), "username": claims.get("preferred_username"),
            "token_type": "Bearer"}  # fmt: skip


@router.post(OIDC + "/revoke")
async def revoke(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    form = non_empty(await _form(request))
    await in_thread(_revoke, core, found, request.headers.get("authorization"), form)
    return Response(status_code=200, headers=NO_STORE)


def _revoke(core: IdpCore, realm: Realm, authorization: str | None, form: dict[str, str]) -> None:
    """RFC 7009 §2.2: 200 for an authenticated client whatever the token (invalid tokens included)."""
    client = authenticate_client(core, realm, authorization, form)
    token = form.get("token", "")
    try:
        claims = verify_refresh_token(core, realm, token)
        if claims.get("azp") == client.client_id:
            end_sso_session(core, realm, str(claims["sid"]))
    except IdpError:
        try:
            claims = verify_access_token(core, realm, token)
        except IdpError:
            return
        if claims.get("azp") == client.client_id:
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
            core.store.revoke("jti", str(claims["jti"]), issuer=core.issuer(realm), expires_at=expires, now=core.now())
    core.event(realm, "REVOKE_GRANT", client_id=client.client_id, user_id=str(claims.get("sub")))


async def backchannel_logout(core: IdpCore, realm: Realm, request: Request, form: dict[str, str]) -> Response:
    """python-keycloak `logout(refresh_token)`: client credentials + refresh token end that session → 204."""
    await in_thread(_backchannel_logout, core, realm, request.headers.get("authorization"), form)
    return Response(status_code=204)


def _backchannel_logout(core: IdpCore, realm: Realm, authorization: str | None, form: dict[str, str]) -> None:
    client = authenticate_client(core, realm, authorization, form)
    try:
        claims = verify_refresh_token(core, realm, form["refresh_token"])
    except IdpError as exc:
        raise OAuthError("invalid_grant", "Invalid refresh token") from exc
    if claims.get("azp") != client.client_id:
        raise OAuthError("invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
    session = core.store.sso_session(str(claims["sid"]))
    if session is None or not is_session_alive(session, realm, core.now()):
        raise OAuthError("invalid_grant", "Session not active")
    end_sso_session(core, realm, session.id)
    core.event(realm, "LOGOUT", client_id=client.client_id, user_id=session.user_id, session_id=session.id)
