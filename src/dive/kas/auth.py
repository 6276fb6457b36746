"""Bearer-token verification for the KAS (spec/ztdf-kas.md §7.4 steps 1–4; identity-api-ui §B.2).

`TokenVerifier.verify(authorization)` is self-contained so the api can reuse it with its own audience:
1. the issuer is read without trusting it and must be in the trusted set *before* any network call;
2. the key comes from a JWKS cache keyed by `(iss, kid)`, filled from the JWKS URI the registry recorded for that
   issuer (never one derived from the token), over HTTPS verified with the deployment CA, at most one refresh per
   issuer per 10 s, concurrent misses coalesced;
3. RS256 only; `exp`/`nbf`/`iat` with 30 s leeway; `aud` must contain the audience; `azp` in the issuer's clients.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dive.kas.errors import AuthenticationError, KasUnavailableError

__all__ = ["TokenVerifier", "TrustedIssuer", "TrustedIssuerSource", "VerifiedToken", "decode_segment"]

LEEWAY_S: Final = 30
JWKS_TIMEOUT_S: Final = 3.0
JWKS_MIN_REFRESH_S: Final = 10.0
ACCESS_TOKEN_ALGORITHMS: Final = ("RS256",)


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    instance_code: str  # upper case
    jwks_uri: str
    allowed_clients: tuple[str, ...] | None = None  # None: any client of that issuer


TrustedIssuerSource = Callable[[], Awaitable[Mapping[str, TrustedIssuer]]]


@dataclass(frozen=True)
class VerifiedToken:
    token: str = field(repr=False)
    claims: Mapping[str, Any]
    issuer: TrustedIssuer


def decode_segment(segment: str) -> Any:
    """JSON of one base64url JWS segment; `ValueError` when it is not."""
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _invalid(message: str) -> AuthenticationError:
    return AuthenticationError("token_invalid", message)


class TokenVerifier:
    def __init__(
        self,
        *,
        issuers: TrustedIssuerSource,
        http: httpx.AsyncClient,
        audience: str,
        clock: Callable[[], float] = time.time,
        on_jwks_fetch: Callable[[str], None] | None = None,
    ) -> None:
        self._issuers, self._http, self._audience, self._clock = issuers, http, audience, clock
        self._on_fetch = on_jwks_fetch or (lambda result: None)
        self._keys: dict[tuple[str, str], RSAKey] = {}
        self._last_fetch: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def verify(self, authorization: str | None) -> VerifiedToken:
        token = _bearer(authorization)
        header, claims = _unverified(token)
        if header.get("alg") not in ACCESS_TOKEN_ALGORITHMS:
            raise _invalid(f"access tokens must be signed with RS256, not {header.get('alg')!r}")
        trusted = (await self._issuers()).get(claims.get("iss"))  # type: ignore[arg-type]
        if trusted is None:
            raise AuthenticationError(
                "issuer_not_trusted", "The access token's issuer is not a trusted federation issuer"
            )
        key = await self._key(trusted, header.get("kid"))
        try:
            jws.deserialize_compact(token, key, algorithms=list(ACCESS_TOKEN_ALGORITHMS))
        except (JoseError, ValueError) as exc:
            raise _invalid("the access token's signature does not verify") from exc
        self._check_claims(claims, trusted)
        return VerifiedToken(token, claims, trusted)

    def _check_claims(self, claims: Mapping[str, Any], trusted: TrustedIssuer) -> None:
        now = self._clock()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _is_number(exp):
            raise _invalid("the access token has no numeric exp")
        if exp + LEEWAY_S < now:
            raise AuthenticationError("token_expired", "The access token has expired; obtain a new one")
        if nbf is not None and (not _is_number(nbf) or nbf - LEEWAY_S > now):
            raise _invalid("the access token is not valid yet (nbf)")
        if iat is not None and (not _is_number(iat) or iat - LEEWAY_S > now):
            raise _invalid("the access token was issued in the future (iat)")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self._audience not in audiences:
            raise _invalid(f"the access token is not intended for {self._audience} (aud)")
        if trusted.allowed_clients is not None and claims.get("azp") not in trusted.allowed_clients:
            raise _invalid("the access token was issued to a client this issuer does not allow (azp)")

    async def _key(self, trusted: TrustedIssuer, kid: object) -> RSAKey:
        if not isinstance(kid, str) or not kid:
            raise _invalid("the access token header has no kid")
        cache_key = (trusted.issuer, kid)
        if cache_key in self._keys:
            return self._keys[cache_key]
        lock = self._locks.setdefault(trusted.issuer, asyncio.Lock())
        async with lock:  # concurrent misses for one issuer wait for one fetch
            if cache_key not in self._keys and self._may_refresh(trusted.issuer):
                await self._fetch(trusted)
        key = self._keys.get(cache_key)
        if key is None:
            raise _invalid(f"no key {kid!r} in the JWKS of {trusted.issuer}")
        return key

    def _may_refresh(self, issuer: str) -> bool:
        last = self._last_fetch.get(issuer)
        return last is None or self._clock() - last >= JWKS_MIN_REFRESH_S

    async def _fetch(self, trusted: TrustedIssuer) -> None:
        self._last_fetch[trusted.issuer] = self._clock()
        try:
            response = await self._http.get(trusted.jwks_uri, timeout=JWKS_TIMEOUT_S)
            response.raise_for_status()
            keys = response.json().get("keys", [])
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            self._on_fetch("error")
            raise KasUnavailableError(
                "service_unavailable", f"the signing keys of {trusted.issuer} cannot be fetched; try again later"
            ) from exc
        self._on_fetch("ok")
        for item in keys if isinstance(keys, list) else []:
            if isinstance(item, dict) and item.get("kty") == "RSA" and isinstance(item.get("kid"), str):
                try:
                    self._keys[(trusted.issuer, item["kid"])] = RSAKey.import_key(item)
                except (JoseError, ValueError, TypeError):
                    continue  # one malformed key must not hide the issuer's other keys


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() not in ("bearer", "dpop") or not token.strip():
        raise AuthenticationError("token_missing", "A bearer access token is required (Authorization: Bearer …)")
    return token.strip()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise _invalid("the access token is not a compact JWS")
    try:
        header, claims = decode_segment(parts[0]), decode_segment(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid("the access token is not a readable JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _invalid("the access token header or claims are not JSON objects")
    return header, claims


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
