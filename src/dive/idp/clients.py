"""Client authentication at the token, introspection, revocation and logout endpoints (RFC 6749 §2.3)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from dive.idp.core import IdpCore
from dive.idp.errors import OAuthError
from dive.idp.model import Client, Realm
from dive.idp.oauth.rfc6749 import parse_client_credentials

__all__ = ["authenticate_client"]


def authenticate_client(
    core: IdpCore, realm: Realm, authorization: str | None, form: Mapping[str, str], *, confidential_only: bool = False
) -> Client:
    credentials = parse_client_credentials(authorization, form)
    headers = {"WWW-Authenticate": "Basic"} if credentials.method == "client_secret_basic" else {}
    client = core.directory.client_by_client_id(realm.id, credentials.client_id, visible_at=core.visible_at())
    if client is None or not client.enabled:
        raise OAuthError("invalid_client", "Invalid client or Invalid client credentials", status=401, headers=headers)
    if client.public:
        if confidential_only:
            raise OAuthError("invalid_client", "Public client not allowed here", status=401, headers=headers)
        return client
    if credentials.secret is None or client.secret is None:
        raise OAuthError("invalid_client", "Invalid client or Invalid client credentials", status=401, headers=headers)
    if not hmac.compare_digest(credentials.secret.encode(), client.secret.encode()):
        raise OAuthError("invalid_client", "Invalid client or Invalid client credentials", status=401, headers=headers)
    return client
