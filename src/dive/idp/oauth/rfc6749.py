"""OAuth 2.0 (RFC 6749) request rules: client authentication (§2.3.1), redirect URI matching (§3.1.2) and
empty-parameter handling (§3.1: parameters sent without a value are treated as omitted)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from dive.idp.errors import OAuthError

__all__ = [
    "ClientCredentials",
    "add_query",
    "non_empty",
    "parse_client_credentials",
    "redirect_uri_matches",
]


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    secret: str | None
    method: str  # client_secret_basic | client_secret_post | none


def non_empty(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v != ""}


def parse_client_credentials(authorization: str | None, form: Mapping[str, str]) -> ClientCredentials:
    """§2.3.1: HTTP Basic with form-urlencoded id and secret, or the body parameters; both and different → error."""
    basic = _parse_basic(authorization) if authorization else None
    post_id, post_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if (post_id and post_id != basic.client_id) or (post_secret and post_secret != basic.secret):
            raise OAuthError("invalid_request", "Client credentials in the header and the body differ")
        return basic
    if not post_id:
        raise OAuthError("invalid_client", "Missing parameter: client_id", status=401)
    if post_secret:
        return ClientCredentials(post_id, post_secret, "client_secret_post")
    return ClientCredentials(post_id, None, "none")


def _parse_basic(authorization: str) -> ClientCredentials | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials", status=401, headers={"WWW-Authenticate": "Basic"}
        ) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials", status=401, headers={"WWW-Authenticate": "Basic"}
        )
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret), "client_secret_basic")


def redirect_uri_matches(requested: str, registered: list[str]) -> bool:
    """Exact match; a registered value ending in `*` matches by prefix (Keycloak)."""
    for candidate in registered:
        if candidate.endswith("*"):
            if requested.startswith(candidate[:-1]):
                return True
        elif requested == candidate:
            return True
    return False


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
