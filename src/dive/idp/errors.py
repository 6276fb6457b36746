"""Errors of the identity provider.

IdpError                      (base; `code` is stable snake_case)
├─ OAuthError                 RFC 6749 §5.2 / §4.1.2.1 error (`code` = the OAuth `error` value)
├─ AdminApiError              Keycloak admin REST error (status + Keycloak body)
├─ LoginError                 an interactive login step failed (shown on the login page)
└─ BrokerError                brokering with a partner identity provider failed
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["AdminApiError", "BrokerError", "IdpError", "LoginError", "OAuthError"]


class IdpError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OAuthError(IdpError):
    """An OAuth error answered as JSON `{"error", "error_description"}` (or as redirect parameters)."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error, description)
        self.status = status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.message}


class AdminApiError(IdpError):
    """A Keycloak-shaped admin API error; `body` is sent verbatim (python-keycloak matches some literally)."""

    def __init__(self, status: int, body: Mapping[str, str], code: str = "admin_error") -> None:
        super().__init__(code, next(iter(body.values()), ""))
        self.status = status
        self.body = dict(body)


class LoginError(IdpError):
    """`code` is the Keycloak event error (`invalid_user_credentials`, `user_temporarily_disabled`, …);
    `message` is what the login page shows, the same for every credential failure."""


class BrokerError(IdpError):
    """`code` names the failed step (`broker_state_invalid`, `upstream_issuer_mismatch`, …); logged and recorded
    as an `IDENTITY_PROVIDER_LOGIN_ERROR` event, while the user sees a generic notice."""
