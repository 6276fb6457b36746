"""Minting the token response (§A.5.3 success body) for a client, a user and a session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dive.idp.core import IdpCore
from dive.idp.model import Client, Realm, SsoSession, User
from dive.idp.realm_names import MASTER_REALM
from dive.idp.sessions import refresh_lifetime_s
from dive.idp.tokens import (
    TokenContext,
    access_token_claims,
    id_token_claims,
    new_jti,
    refresh_token_claims,
    sign_refresh,
    sign_rs256,
)

__all__ = ["issue_tokens"]


def _lifespan(core: IdpCore, realm: Realm, client: Client) -> int:
    """Admin tokens (master realm) live `DIVE_IDP_ADMIN_TOKEN_LIFESPAN_S` (300 s, §A.9); others per client/realm."""
    if realm.name == MASTER_REALM:
        return core.settings.admin_token_lifespan_s
    return client.access_token_lifespan(realm)


def issue_tokens(
    core: IdpCore,
    realm: Realm,
    client: Client,
    user: User,
    session: SsoSession | None,
    *,
    scope: str,
    nonce: str | None = None,
) -> dict[str, Any]:
    """Access token always; refresh token for a session; ID token when the scope has `openid`."""
    now = core.now()
    ctx = TokenContext(issuer=core.issuer(realm), client=client, user=user, roles=core.roles_of(user),
                       session=session, scope=scope, now=int(now.timestamp()), nonce=nonce)  # fmt: skip
    key = core.keys.active(realm)
    lifespan = _lifespan(core, realm, client)
    access = sign_rs256(access_token_claims(ctx, lifespan=lifespan, jti=new_jti()), key)
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": lifespan,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": scope,
    }
    core.metrics.token(realm.name, "access")
    if "openid" in scope.split():
        core.metrics.token(realm.name, "id")
        body["id_token"] = sign_rs256(id_token_claims(ctx, lifespan=lifespan, access_token=access), key)
    if session is not None:
        refresh_s = refresh_lifetime_s(session, realm, now)
        jti = new_jti()
        expires_at = now + timedelta(seconds=refresh_s)
        core.store.save_refresh_token(jti, session_id=session.id, client_id=client.client_id, expires_at=expires_at)
        claims = refresh_token_claims(ctx, session, expires_at=int(expires_at.timestamp()), jti=jti)
        body["refresh_token"] = sign_refresh(claims, key)
        core.metrics.token(realm.name, "refresh")
        body["refresh_expires_in"] = refresh_s
        body["session_state"] = session.id
    return body
