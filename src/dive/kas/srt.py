"""The signed request token (spec/ztdf-kas.md §7.4 step 6): a JWS whose `requestBody` claim is the rewrap request.

Structure errors are 400 `srt_invalid`; time and signature errors are 401 `srt_invalid`. A key embedded in the
SRT's own header (`jwk`, `x5c`, `jku`) is never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from dive.kas.errors import AuthenticationError, RequestInvalidError
from dive.tokens import decode_segment

__all__ = ["SRT_ALGORITHMS", "SignedRequest", "check_srt_time", "read_srt", "verify_srt_signature"]

SRT_ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
FUTURE_SKEW_S: Final = 60


@dataclass(frozen=True)
class SignedRequest:
    token: str = field(repr=False)
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    request_body: str


def read_srt(token: object) -> SignedRequest:
    """Parse without verifying: compact JWS, allowed `alg`, a string `requestBody`, a numeric `iat`."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise RequestInvalidError("srt_invalid", "signedRequestToken must be a compact JWS string")
    head, body, _ = token.split(".")
    try:
        header, claims = decode_segment(head), decode_segment(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestInvalidError("srt_invalid", "signedRequestToken is not a readable JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise RequestInvalidError("srt_invalid", "signedRequestToken header or claims are not JSON objects")
    if header.get("alg") not in SRT_ALGORITHMS:
        raise RequestInvalidError("srt_invalid", f"signedRequestToken alg {header.get('alg')!r} is not allowed")
    if not isinstance(claims.get("requestBody"), str):
        raise RequestInvalidError("srt_invalid", "signedRequestToken has no string requestBody claim")
    if not _is_number(claims.get("iat")):
        raise RequestInvalidError("srt_invalid", "signedRequestToken has no numeric iat claim")
    return SignedRequest(token, header, claims, claims["requestBody"])


def check_srt_time(srt: SignedRequest, *, now: float, max_age_s: int) -> None:
    iat, exp = srt.claims["iat"], srt.claims.get("exp")
    if iat > now + FUTURE_SKEW_S:
        raise AuthenticationError("srt_invalid", "the signed request token was issued in the future")
    if now - iat > max_age_s:
        raise AuthenticationError("srt_invalid", f"the signed request token is older than {max_age_s} s")
    if exp is not None and (not _is_number(exp) or exp < now - FUTURE_SKEW_S):
        raise AuthenticationError("srt_invalid", "the signed request token has expired")


def verify_srt_signature(srt: SignedRequest, key: RSAKey | ECKey) -> None:
    registry = jws.JWSRegistry(algorithms=list(SRT_ALGORITHMS))
    # joserfc caps payloads at 125 kB; the request limit (2 MiB) already bounds the SRT, and bulk SRTs exceed 125 kB.
    registry.max_payload_length = len(srt.token)
    try:
        jws.deserialize_compact(srt.token, key, registry=registry)
    except (JoseError, ValueError) as exc:
        raise AuthenticationError("srt_invalid", "the signed request token's signature does not verify") from exc


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
