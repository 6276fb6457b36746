"""The token endpoint's grants (§A.5.3): authorization_code (+PKCE), refresh_token (rotation, reuse ends the
session), password (Keycloak's 401 for bad user credentials) and client_credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dive.idp.authentication import (
    authenticate_password,
    has_otp,
    must_enrol_otp,
    record_success,
    verify_second_factor,
)
from dive.idp.clients import authenticate_client
from dive.idp.core import IdpCore
from dive.idp.errors import IdpError, LoginError, OAuthError
from dive.idp.issuance import issue_tokens
from dive.idp.logins import code_hash, effective_scope, end_sso_session, start_sso_session
from dive.idp.model import AuthorizationCode, Client, Realm
from dive.idp.oauth.rfc6749 import non_empty
from dive.idp.oauth.rfc7636 import verify_s256
from dive.idp.sessions import is_session_alive
from dive.idp.throttle import IpThrottle
from dive.idp.verification import verify_refresh_token

__all__ = ["TokenRequest", "handle_token_request"]


class TokenRequest:
    def __init__(self, form: Mapping[str, str], authorization: str | None, ip: str | None) -> None:
        self.form = non_empty(form)
        self.authorization = authorization
        self.ip = ip

    def require(self, name: str) -> str:
        value = self.form.get(name)
        if not value:
            raise OAuthError("invalid_request", f"Missing parameter: {name}")
        return value


def handle_token_request(core: IdpCore, realm: Realm, request: TokenRequest, throttle: IpThrottle) -> dict[str, Any]:
    grant_type = request.require("grant_type")
    handler = _GRANTS.get(grant_type)
    if handler is None:
        raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
    client = authenticate_client(core, realm, request.authorization, request.form)
    return handler(core, realm, client, request, throttle)


def _authorization_code(
    core: IdpCore, realm: Realm, client: Client, request: TokenRequest, throttle: IpThrottle
) -> dict[str, Any]:
    hashed = code_hash(request.require("code"))
    code = core.store.code(hashed)
    if code is None or code.realm_id != realm.id:
        raise _code_error(core, realm, client, "invalid_code", "Code not valid")
    if code.used_at is not None:  # replay (§A.3): end the session that the first redemption started
        end_sso_session(core, realm, code.session_id)
        raise _code_error(core, realm, client, "invalid_code", "Code not valid")
    try:
        _check_code(core, code, client, request)
    except OAuthError as exc:
        # authlib-style servers leave the code valid after a failed check; ours dies on any failed redemption.
        core.store.delete_code(hashed)
        core.event(realm, "CODE_TO_TOKEN_ERROR", client_id=client.client_id, ip_address=request.ip, error=exc.code)
        raise
    if not core.store.mark_code_used(hashed, core.now()):
        end_sso_session(core, realm, code.session_id)
        raise _code_error(core, realm, client, "invalid_code", "Code not valid")
    session = core.store.sso_session(code.session_id)
    user = core.directory.user(realm.id, session.user_id) if session else None
    if session is None or user is None or not user.enabled or not is_session_alive(session, realm, core.now()):
        raise _code_error(core, realm, client, "session_expired", "Session not active")
    body = issue_tokens(core, realm, client, user, session, scope=code.scope, nonce=code.nonce)
    core.event(realm, "CODE_TO_TOKEN", client_id=client.client_id, user_id=user.id, session_id=session.id,
               ip_address=request.ip)  # fmt: skip
    return body


def _check_code(core: IdpCore, code: AuthorizationCode, client: Client, request: TokenRequest) -> None:
    if code.client_id != client.client_id:
        raise OAuthError("invalid_grant", "Auth error: code was issued to another client")
    if code.expires_at <= core.now():
        raise OAuthError("invalid_grant", "Code is expired")
    if request.form.get("redirect_uri") != code.redirect_uri:
        raise OAuthError("invalid_grant", "Incorrect redirect_uri")
    verify_s256(request.form.get("code_verifier"), code.code_challenge)


def _code_error(core: IdpCore, realm: Realm, client: Client, error: str, description: str) -> OAuthError:
    core.event(realm, "CODE_TO_TOKEN_ERROR", client_id=client.client_id, error=error)
    return OAuthError("invalid_grant", description)


def _refresh_token(
    core: IdpCore, realm: Realm, client: Client, request: TokenRequest, throttle: IpThrottle
) -> dict[str, Any]:
    try:
        claims = verify_refresh_token(core, realm, request.require("refresh_token"))
    except IdpError as exc:
        core.event(realm, "REFRESH_TOKEN_ERROR", client_id=client.client_id, error="invalid_token")
        raise OAuthError("invalid_grant", "Invalid refresh token") from exc
    if claims.get("azp") != client.client_id:
        raise OAuthError("invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
    if int(claims["exp"]) <= core.now_s():
        raise OAuthError("invalid_grant", "Token is not active")
    session = core.store.sso_session(claims["sid"])
    if session is None or not is_session_alive(session, realm, core.now()):
        raise OAuthError("invalid_grant", "Session not active")
    if not core.store.use_refresh_token(claims["jti"], core.now()):
        end_sso_session(core, realm, session.id)  # token-family revocation (§A.3)
        core.event(realm, "REFRESH_TOKEN_ERROR", client_id=client.client_id, session_id=session.id,
                   error="invalid_token")  # fmt: skip
        raise OAuthError("invalid_grant", "Maximum allowed refresh token reuse exceeded")
    user = core.directory.user(realm.id, session.user_id)
    if user is None or not user.enabled:
        raise OAuthError("invalid_grant", "Session not active")
    core.store.touch_sso_session(session.id, core.now())
    session = core.store.sso_session(session.id) or session
    body = issue_tokens(core, realm, client, user, session, scope=str(claims.get("scope") or effective_scope(None)))
    core.event(realm, "REFRESH_TOKEN", client_id=client.client_id, user_id=user.id, session_id=session.id)
    return body


def _password(
    core: IdpCore, realm: Realm, client: Client, request: TokenRequest, throttle: IpThrottle
) -> dict[str, Any]:
    if not client.flag("directAccessGrantsEnabled"):
        raise OAuthError("unauthorized_client", "Client not allowed for direct access grants")
    username, password = request.require("username"), request.require("password")
    now = core.now().timestamp()
    if throttle.is_blocked(request.ip, now):
        raise OAuthError("temporarily_unavailable", "Too many failed logins from this address", status=429)
    try:
        user = authenticate_password(core, realm, username, password, ip=request.ip)
        second_factor = has_otp(core, user)
        if second_factor:
            verify_second_factor(core, realm, user, request.form.get("totp", ""), ip=request.ip)
    except LoginError as exc:
        throttle.record_failure(request.ip, now)
        core.event(realm, "LOGIN_ERROR", client_id=client.client_id, ip_address=request.ip, error=exc.code,
                   details={"username": username.lower(), "grant_type": "password"})  # fmt: skip
        raise OAuthError("invalid_grant", "Invalid user credentials", status=401) from exc
    if (not second_factor and must_enrol_otp(realm, user)) or "UPDATE_PASSWORD" in user.required_actions:
        raise OAuthError("invalid_grant", "Account is not fully set up")
    record_success(core, user)
    amr = ("pwd", "otp") if second_factor else ("pwd",)
    session = start_sso_session(core, realm, user, acr="2" if second_factor else "1", amr=amr)
    body = issue_tokens(core, realm, client, user, session, scope=effective_scope(request.form.get("scope")))
    core.event(realm, "LOGIN", client_id=client.client_id, user_id=user.id, session_id=session.id,
               ip_address=request.ip, details={"username": user.username, "grant_type": "password"})  # fmt: skip
    return body


def _client_credentials(
    core: IdpCore, realm: Realm, client: Client, request: TokenRequest, throttle: IpThrottle
) -> dict[str, Any]:
    if client.public or not client.flag("serviceAccountsEnabled"):
        core.event(realm, "CLIENT_LOGIN_ERROR", client_id=client.client_id, error="unauthorized_client")
        raise OAuthError("unauthorized_client", "Client not enabled to retrieve service account")
    user = core.directory.service_account(realm.id, client.id)
    if user is None:
        raise OAuthError("invalid_grant", f"Service account of {client.client_id} is missing; update the client")
    body = issue_tokens(core, realm, client, user, None, scope=effective_scope(request.form.get("scope")))
    core.event(realm, "CLIENT_LOGIN", client_id=client.client_id, user_id=user.id, ip_address=request.ip)
    return body


_GRANTS = {
    "authorization_code": _authorization_code,
    "refresh_token": _refresh_token,
    "password": _password,
    "client_credentials": _client_credentials,
}
