"""Token minting and verification with the claims of §A.6. Access and ID tokens are RS256 JWTs; refresh
tokens are HS512 JWTs signed with the realm secret that rotates with the RSA key (§A.2)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dive.idp.errors import IdpError
from dive.idp.keys import SigningKey
from dive.idp.model import Client, SsoSession, User

__all__ = [
    "TokenContext",
    "access_token_claims",
    "at_hash",
    "decode_signed",
    "id_token_claims",
    "new_jti",
    "refresh_token_claims",
    "sign_refresh",
    "sign_rs256",
    "userinfo_claims",
]

_PROFILE_ATTRIBUTES = ("uniqueID", "clearance", "countryOfAffiliation", "organizationType")


@dataclass(frozen=True, kw_only=True)
class TokenContext:
    """What a token is minted for: the realm's issuer, the client, the session and the request's scope/nonce."""

    issuer: str
    client: Client
    user: User
    roles: Sequence[str]
    session: SsoSession | None
    scope: str
    now: int
    nonce: str | None = None


def new_jti() -> str:
    return secrets.token_urlsafe(24)


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the ASCII access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _identity_claims(user: User, session: SsoSession | None) -> dict[str, Any]:
    claims: dict[str, Any] = {"preferred_username": user.username}
    if user.email:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    if user.first_name:
        claims["given_name"] = user.first_name
    if user.last_name:
        claims["family_name"] = user.last_name
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if name:
        claims["name"] = name
    for attribute in _PROFILE_ATTRIBUTES:
        value = user.first(attribute)
        if value:
            claims[attribute] = value
    claims["acpCOI"] = list(user.attributes.get("acpCOI") or [])
    if session is not None and session.identity_provider:
        claims["identity_provider"] = session.identity_provider
        claims["user_acr"] = session.acr
        claims["user_amr"] = list(session.amr)
    return claims


def _session_claims(ctx: TokenContext) -> dict[str, Any]:
    if ctx.session is None:  # client credentials: no login happened
        return {"acr": "0", "amr": []}
    return {
        "sid": ctx.session.id,
        "auth_time": ctx.session.auth_time,
        "acr": ctx.session.acr,
        "amr": list(ctx.session.amr),
    }


def access_token_claims(ctx: TokenContext, *, lifespan: int, jti: str) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ctx.issuer,
        "sub": ctx.user.id,
        "iat": ctx.now,
        "exp": ctx.now + lifespan,
        "jti": jti,
        "typ": "Bearer",
        "azp": ctx.client.client_id,
        "scope": ctx.scope,
        **_session_claims(ctx),
        **_identity_claims(ctx.user, ctx.session),
        "realm_access": {"roles": list(ctx.roles)},
    }
    if ctx.client.audiences:
        claims["aud"] = ctx.client.audiences
    return claims


def id_token_claims(ctx: TokenContext, *, lifespan: int, access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ctx.issuer,
        "sub": ctx.user.id,
        "aud": ctx.client.client_id,
        "iat": ctx.now,
        "exp": ctx.now + lifespan,
        "jti": new_jti(),
        "typ": "ID",
        "azp": ctx.client.client_id,
        "at_hash": at_hash(access_token),
        **_session_claims(ctx),
        **_identity_claims(ctx.user, ctx.session),
    }
    if ctx.nonce:
        claims["nonce"] = ctx.nonce
    return claims


def refresh_token_claims(ctx: TokenContext, session: SsoSession, *, expires_at: int, jti: str) -> dict[str, Any]:
    return {
        "iss": ctx.issuer,
        "aud": ctx.issuer,
        "sub": ctx.user.id,
        "iat": ctx.now,
        "exp": expires_at,
        "jti": jti,
        "typ": "Refresh",
        "azp": ctx.client.client_id,
        "sid": session.id,
        "scope": ctx.scope,
    }


def userinfo_claims(user: User, session: SsoSession | None) -> dict[str, Any]:
    return {"sub": user.id, **_identity_claims(user, session)}


def sign_rs256(claims: Mapping[str, Any], key: SigningKey) -> str:
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, dict(claims), key.rsa)


def sign_refresh(claims: Mapping[str, Any], key: SigningKey) -> str:
    return jwt.encode({"alg": "HS512", "typ": "JWT", "kid": key.kid}, dict(claims), key.hs512, algorithms=["HS512"])


def decode_signed(token: str, keys: Sequence[SigningKey], *, refresh: bool = False) -> dict[str, Any]:
    """Verify the signature against the realm's keys (active and passive) and return the claims unchecked.
    Expiry, issuer and type are the caller's rules (an expired `id_token_hint` is acceptable, §A.5.5)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IdpError("token_invalid", "the token is malformed") from exc
    kid = header.get("kid") if isinstance(header, dict) else None
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise IdpError("token_invalid", "the token's kid is not a key of this realm")
    try:
        if refresh:
            decoded = jwt.decode(token, key.hs512, algorithms=["HS512"])
        else:
            decoded = jwt.decode(token, KeySet([key.rsa]), algorithms=["RS256"])
    except (JoseError, ValueError) as exc:
        raise IdpError("token_invalid", "the token is malformed or its signature does not verify") from exc
    return dict(decoded.claims)
