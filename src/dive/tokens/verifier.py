"""Bearer-token verification (identity-api-ui §B.2 steps 1–5; spec/ztdf-kas.md §7.4 steps 1–4).

`TokenVerifier.verify(authorization)` does, in this order:
1. parse without trusting; `alg` must be RS256 (never `none` or `HS*`);
2. the issuer must be in the trusted set *before* any network call;
3. the key comes from a JWKS cache keyed by `(iss, kid)`, filled from the JWKS URI the registry recorded for that
   issuer (never one derived from the token), at most one refresh per issuer per 10 s, concurrent misses coalesced;
4. signature; `exp`/`nbf`/`iat` with 30 s leeway; `typ` (when required) `Bearer`;
5. `aud` contains the audience; `azp` is one of the issuer's allowed clients.
Revocation (step 6) belongs to the caller, which owns the revocation store.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dive.tokens.errors import TokenCheckUnavailableError, TokenRejectedError

__all__ = [
    "TokenVerifier",
    "TrustedIssuer",
    "TrustedIssuerSource",
    "VerifiedToken",
    "decode_segment",
    "own_jwks_uri",
]

LEEWAY_S: Final = 30
JWKS_TIMEOUT_S: Final = 3.0
JWKS_MIN_REFRESH_S: Final = 10.0
ACCESS_TOKEN_ALGORITHMS: Final = ("RS256",)
ACCESS_TOKEN_TYPE: Final = "Bearer"


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    instance_code: str  # upper case
    jwks_uri: str
    allowed_clients: tuple[str, ...] | None = None  # None: the verifier's default for that issuer


TrustedIssuerSource = Callable[[], Awaitable[Mapping[str, TrustedIssuer]]]
AllowedClients = Callable[[TrustedIssuer], Collection[str] | None]


@dataclass(frozen=True)
class VerifiedToken:
    token: str = field(repr=False)
    claims: Mapping[str, Any]
    issuer: TrustedIssuer


def own_jwks_uri(issuer: str) -> str:
    """The JWKS URI of a realm issuer of ours (Keycloak's path, identity-api-ui §A.5.4)."""
    return f"{issuer}/protocol/openid-connect/certs"


def decode_segment(segment: str) -> Any:
    """JSON of one base64url JWS segment; `ValueError` when it is not."""
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _registered_clients(trusted: TrustedIssuer) -> Collection[str] | None:
    return trusted.allowed_clients


class TokenVerifier:
    def __init__(
        self,
        *,
        issuers: TrustedIssuerSource,
        http: httpx.AsyncClient,
        audience: str,
        allowed_clients: AllowedClients = _registered_clients,
        require_type: bool = False,
        clock: Callable[[], float] = time.time,
        on_jwks_fetch: Callable[[str], None] | None = None,
    ) -> None:
        """`allowed_clients(issuer)` gives the `azp` values accepted from it (None: any); `require_type` demands
        `typ: Bearer` (identity-api-ui §B.2 step 4) where a token without `typ` would otherwise pass."""
        self._issuers, self._http, self._audience, self._clock = issuers, http, audience, clock
        self._allowed_clients, self._require_type = allowed_clients, require_type
        self._on_fetch = on_jwks_fetch or (lambda result: None)
        self._keys: dict[tuple[str, str], RSAKey] = {}
        self._last_fetch: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def verify(self, authorization: str | None) -> VerifiedToken:
        token = _bearer(authorization)
        header, claims = _unverified(token)
        if header.get("alg") not in ACCESS_TOKEN_ALGORITHMS:
            raise TokenRejectedError("malformed", f"access tokens must be signed with RS256, not {header.get('alg')!r}")
        trusted = (await self._issuers()).get(claims.get("iss"))  # type: ignore[arg-type]
        if trusted is None:
            raise TokenRejectedError(
                "issuer_not_trusted", "The access token's issuer is not a trusted federation issuer"
            )
        key = await self._key(trusted, header.get("kid"))
        try:
            jws.deserialize_compact(token, key, algorithms=list(ACCESS_TOKEN_ALGORITHMS))
        except (JoseError, ValueError) as exc:
            raise TokenRejectedError("bad_signature", "the access token's signature does not verify") from exc
        self._check_claims(claims, trusted)
        return VerifiedToken(token, claims, trusted)

    def _check_claims(self, claims: Mapping[str, Any], trusted: TrustedIssuer) -> None:
        now = self._clock()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _is_number(exp):
            raise TokenRejectedError("malformed", "the access token has no numeric exp")
        if exp + LEEWAY_S < now:
            raise TokenRejectedError("expired", "The access token has expired; obtain a new one")
        if nbf is not None and (not _is_number(nbf) or nbf - LEEWAY_S > now):
            raise TokenRejectedError("not_yet_valid", "the access token is not valid yet (nbf)")
        if iat is not None and (not _is_number(iat) or iat - LEEWAY_S > now):
            raise TokenRejectedError("not_yet_valid", "the access token was issued in the future (iat)")
        typ = claims.get("typ")
        if (typ is not None or self._require_type) and typ != ACCESS_TOKEN_TYPE:
            raise TokenRejectedError("wrong_token_type", f"the token is not an access token (typ {typ!r})")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self._audience not in audiences:
            raise TokenRejectedError("audience_mismatch", f"the access token is not intended for {self._audience}")
        clients = self._allowed_clients(trusted)
        if clients is not None and claims.get("azp") not in clients:
            raise TokenRejectedError(
                "azp_not_allowed", "the access token was issued to a client this issuer does not allow (azp)"
            )

    async def _key(self, trusted: TrustedIssuer, kid: object) -> RSAKey:
        if not isinstance(kid, str) or not kid:
            raise TokenRejectedError("malformed", "the access token header has no kid")
        cache_key = (trusted.issuer, kid)
        if cache_key in self._keys:
            return self._keys[cache_key]
        lock = self._locks.setdefault(trusted.issuer, asyncio.Lock())
        async with lock:  # concurrent misses for one issuer wait for one fetch
            if cache_key not in self._keys and self._may_refresh(trusted.issuer):
                await self._fetch(trusted)
        key = self._keys.get(cache_key)
        if key is None:
            raise TokenRejectedError("unknown_key", f"no key {kid!r} in the JWKS of {trusted.issuer}")
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
            raise TokenCheckUnavailableError(
                "jwks_unavailable", f"the signing keys of {trusted.issuer} cannot be fetched; try again later"
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
        raise TokenRejectedError("missing_token", "A bearer access token is required (Authorization: Bearer …)")
    return token.strip()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejectedError("malformed", "the access token is not a compact JWS")
    try:
        header, claims = decode_segment(parts[0]), decode_segment(parts[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenRejectedError("malformed", "the access token is not a readable JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejectedError("malformed", "the access token header or claims are not JSON objects")
    return header, claims


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
