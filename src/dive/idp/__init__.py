"""OpenID Connect provider and identity broker with Keycloak-compatible URLs and admin API subset
(identity-api-ui §A). `dive serve idp` builds the service with `create_app(settings)`."""

from __future__ import annotations

from dive.idp.app import create_app
from dive.idp.errors import AdminApiError, BrokerError, IdpError, LoginError, OAuthError

__all__ = ["AdminApiError", "BrokerError", "IdpError", "LoginError", "OAuthError", "create_app"]
