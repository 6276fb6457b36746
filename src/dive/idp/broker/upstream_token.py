"""Verification of a partner's ID token before any use of its claims (§A.8 step 4): RS256 only, key by kid,
exact issuer, audience (with `azp` when several), expiry and issue time with 60 s leeway, nonce."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dive.idp.errors import BrokerError

__all__ = ["LEEWAY_S", "verify_upstream_id_token"]

LEEWAY_S = 60
KeyLookup = Callable[[str], RSAKey | None]


def _header(token: str) -> dict[str, Any]:
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise BrokerError("upstream_token_invalid", "the partner's ID token is malformed") from exc
    if not isinstance(header, dict):
        raise BrokerError("upstream_token_invalid", "the partner's ID token is malformed")
    return header


def verify_upstream_id_token(
    token: str, *, issuer: str, client_id: str, nonce: str, find_key: KeyLookup, now: int
) -> dict[str, Any]:
    header = _header(token)
    if header.get("alg") != "RS256":
        raise BrokerError("upstream_token_invalid", f"the partner signed with {header.get('alg')!r}; only RS256")
    key = find_key(str(header.get("kid", "")))
    if key is None:
        raise BrokerError("upstream_key_unknown", f"the partner's key {header.get('kid')!r} is not in its JWKS")
    try:
        claims = dict(jwt.decode(token, key, algorithms=["RS256"]).claims)
    except (JoseError, ValueError) as exc:
        raise BrokerError("upstream_signature_invalid", "the partner's ID token signature does not verify") from exc
    _check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now)
    return claims


def _check_claims(claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: int) -> None:
    if claims.get("iss") != issuer:
        raise BrokerError("upstream_issuer_mismatch", f"ID token issuer {claims.get('iss')!r} is not {issuer!r}")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    if client_id not in audiences:
        raise BrokerError("upstream_audience_mismatch", f"ID token audience does not contain {client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise BrokerError("upstream_audience_mismatch", f"ID token has several audiences and azp is not {client_id!r}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or exp + LEEWAY_S < now:
        raise BrokerError("upstream_token_expired", "the partner's ID token has expired")
    if not isinstance(iat, int) or iat - LEEWAY_S > now:
        raise BrokerError("upstream_token_invalid", "the partner's ID token was issued in the future")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise BrokerError("upstream_nonce_mismatch", "the partner's ID token nonce does not match this login")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise BrokerError("upstream_token_invalid", "the partner's ID token has no subject")
