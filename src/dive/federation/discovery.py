"""A partner's OpenID Connect discovery document (OpenID Connect Discovery 1.0 §3), parsed once at the edge."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from dive.federation.errors import PartnerUnreachableError
from dive.federation.partners import Partner

__all__ = ["Discovery", "fetch_discovery"]


@dataclass(frozen=True, kw_only=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str


def fetch_discovery(http: httpx.Client, partner: Partner) -> Discovery:
    url = f"{partner.issuer}/.well-known/openid-configuration"
    try:
        response = http.get(url, timeout=10.0)
    except httpx.TransportError as exc:
        raise PartnerUnreachableError(
            f"the idp of {partner.display} at {partner.idp_url} is unreachable: {exc}"
        ) from exc
    if response.status_code != 200:
        raise PartnerUnreachableError(f"discovery of {partner.display} answered HTTP {response.status_code} at {url}")
    document = response.json()
    try:
        return Discovery(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
            end_session_endpoint=str(document.get("end_session_endpoint") or ""),
        )
    except (KeyError, TypeError) as exc:
        raise PartnerUnreachableError(f"discovery of {partner.display} at {url} lacks {exc}") from exc
