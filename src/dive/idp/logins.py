"""The authorization endpoint's rules (§A.5.2) and the steps shared by every way of logging in: SSO session
start/end and issuing the authorization code."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from dive.idp.core import IdpCore
from dive.idp.errors import LoginError, OAuthError
from dive.idp.model import AuthorizationCode, Client, Realm, SsoSession, User
from dive.idp.oauth.rfc6749 import add_query, redirect_uri_matches
from dive.idp.oauth.rfc7636 import check_challenge_request
from dive.idp.sessions import session_revocation_horizon

__all__ = [
    "DEFAULT_SCOPES",
    "AuthorizationRequest",
    "RedirectableError",
    "code_hash",
    "effective_scope",
    "end_sso_session",
    "issue_code",
    "parse_authorization_request",
    "start_sso_session",
]

DEFAULT_SCOPES = ("profile", "email")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def effective_scope(requested: str | None) -> str:
    """Keycloak grants the default scopes whatever is asked; unknown values are ignored (§A.5.2)."""
    openid = ["openid"] if requested and "openid" in requested.split() else []
    return " ".join([*openid, *DEFAULT_SCOPES])


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    prompt: str | None = None
    max_age: int | None = None
    login_hint: str | None = None
    acr_values: str | None = None
    kc_idp_hint: str | None = None

    def as_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> AuthorizationRequest:
        return cls(**{k: params.get(k) for k in cls.__dataclass_fields__ if k in params})

    @property
    def wants_otp(self) -> bool:
        return "2" in (self.acr_values or "").split()

    def error_redirect(self, error: str, description: str) -> str:
        return add_query(self.redirect_uri, {"error": error, "error_description": description, "state": self.state})


def parse_authorization_request(
    core: IdpCore, realm: Realm, query: Mapping[str, str]
) -> tuple[Client, AuthorizationRequest]:
    """Unknown client or bad redirect URI → LoginError (an error page, never a redirect). Other errors are
    raised as OAuthError carrying the request, to be sent back to the redirect URI."""
    params = {k: v for k, v in query.items() if v != ""}
    client = core.directory.client_by_client_id(realm.id, params.get("client_id", ""), visible_at=core.visible_at())
    if client is None or not client.enabled:
        raise LoginError("client_not_found", "Client not found.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri_matches(redirect_uri, client.redirect_uris):
        raise LoginError("invalid_redirect_uri", "Invalid parameter: redirect_uri")
    max_age = params.get("max_age")
    request = AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=params.get("scope", ""),
        state=params.get("state"),
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        prompt=params.get("prompt"),
        max_age=int(max_age) if max_age and max_age.isdigit() else None,
        login_hint=params.get("login_hint"),
        acr_values=params.get("acr_values"),
        kc_idp_hint=params.get("kc_idp_hint"),
    )
    if params.get("response_type") != "code":
        raise RedirectableError(request, "unsupported_response_type", "Only response_type=code is supported")
    if not client.flag("standardFlowEnabled", True):
        raise RedirectableError(request, "unauthorized_client", "Client is not allowed to initiate browser login")
    try:
        check_challenge_request(
            params.get("code_challenge"), params.get("code_challenge_method"), required=client.requires_pkce
        )
    except OAuthError as exc:
        raise RedirectableError(request, exc.code, exc.message) from exc
    return client, request


class RedirectableError(OAuthError):
    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(error, description)
        self.request = request

    @property
    def location(self) -> str:
        return self.request.error_redirect(self.code, self.message)


def start_sso_session(
    core: IdpCore, realm: Realm, user: User, *, acr: str, amr: tuple[str, ...], identity_provider: str | None = None
) -> SsoSession:
    now = core.now()
    session = SsoSession(id=secrets.token_urlsafe(24), realm_id=realm.id, user_id=user.id, started_at=now,
                         last_seen_at=now, auth_time=int(now.timestamp()), acr=acr, amr=amr,
                         identity_provider=identity_provider)  # fmt: skip
    core.store.create_sso_session(session)
    return session


def end_sso_session(core: IdpCore, realm: Realm, session_id: str) -> bool:
    now = core.now()
    return core.store.end_sso_session(session_id, issuer=core.issuer(realm), now=now,
                                      revoke_until=session_revocation_horizon(realm, now))  # fmt: skip


def issue_code(core: IdpCore, realm: Realm, request: AuthorizationRequest, session: SsoSession) -> str:
    """Bind a fresh single-use code to client, redirect URI, PKCE challenge, nonce and session (§A.3);
    return the redirect location. Only the SHA-256 of the code is stored."""
    code = secrets.token_urlsafe(32)
    core.store.save_code(
        AuthorizationCode(
            code_hash=code_hash(code),
            realm_id=realm.id,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            session_id=session.id,
            scope=effective_scope(request.scope),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            expires_at=core.now() + timedelta(seconds=int(realm.setting("accessCodeLifespan"))),
        )
    )
    return add_query(request.redirect_uri, {"code": code, "state": request.state, "session_state": session.id})
