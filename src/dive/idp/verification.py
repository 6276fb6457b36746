"""Verifying tokens this idp issued (userinfo, introspection, logout hints, admin authentication)."""

from __future__ import annotations

from typing import Any

from dive.idp.core import IdpCore
from dive.idp.errors import IdpError
from dive.idp.model import Realm
from dive.idp.tokens import decode_signed

__all__ = ["verify_access_token", "verify_id_token_hint", "verify_refresh_token"]


def verify_access_token(core: IdpCore, realm: Realm, token: str) -> dict[str, Any]:
    claims = decode_signed(token, core.keys.all(realm))
    _check_issuer(core, realm, claims)
    if claims.get("typ") != "Bearer":
        raise IdpError("token_invalid", "the token is not an access token")
    if int(claims.get("exp", 0)) <= core.now_s():
        raise IdpError("token_expired", "Token is not active")
    if core.store.is_revoked(jti=claims.get("jti"), sid=claims.get("sid"), now=core.now()):
        raise IdpError("token_revoked", "Token is not active")
    return claims


def verify_refresh_token(core: IdpCore, realm: Realm, token: str) -> dict[str, Any]:
    """Signature, issuer and type only: expiry and reuse have their own Keycloak messages (§A.5.3)."""
    claims = decode_signed(token, core.keys.all(realm), refresh=True)
    _check_issuer(core, realm, claims)
    if claims.get("typ") != "Refresh" or not claims.get("jti") or not claims.get("sid"):
        raise IdpError("token_invalid", "the token is not a refresh token")
    return claims


def verify_id_token_hint(core: IdpCore, realm: Realm, token: str) -> dict[str, Any]:
    """§A.5.5: the signature is checked; an expired hint is accepted."""
    claims = decode_signed(token, core.keys.all(realm))
    _check_issuer(core, realm, claims)
    if claims.get("typ") != "ID":
        raise IdpError("token_invalid", "id_token_hint is not an ID token")
    return claims


def _check_issuer(core: IdpCore, realm: Realm, claims: dict[str, Any]) -> None:
    if claims.get("iss") != core.issuer(realm):
        raise IdpError("token_invalid", "the token was issued by another realm")
