"""Errors of the backend API (identity-api-ui §B.1.3). Each is an `HttpError`, answered in the §0.3 shape.

ApiError (HttpError)
├─ InvalidRequestError        invalid_request (400)
├─ TokenInvalidError          invalid_token (401; `details.reason`, `WWW-Authenticate`)
├─ ForbiddenError             access_denied, insufficient_role (403)
├─ NotFoundError              not_found (404)
├─ ConflictError              conflict (409)
├─ UnsupportedMediaTypeError  unsupported_media_type (415)
├─ ValidationFailedError      validation_failed (422; `details.errors`)
├─ UpstreamError              kas_error, partner_error (502)
├─ UnavailableError           kas_unavailable, policy_unavailable, revocation_unavailable, service_unavailable (503)
└─ IntegrityCheckError        integrity_check_failed (500)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dive.service import HttpError

__all__ = [
    "ApiError",
    "ConflictError",
    "ForbiddenError",
    "IntegrityCheckError",
    "InvalidRequestError",
    "NotFoundError",
    "TokenInvalidError",
    "UnavailableError",
    "UnsupportedMediaTypeError",
    "UpstreamError",
    "ValidationFailedError",
]

REALM = "dive-v3-api"


class ApiError(HttpError):
    status = 500

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, message, status=self.status, details=details, headers=headers)


class InvalidRequestError(ApiError):
    status = 400

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__("invalid_request", message, details=details)


class TokenInvalidError(ApiError):
    """RFC 6750 §3: a missing token gets the bare challenge, a rejected one names the error and its reason."""

    status = 401

    def __init__(self, reason: str, message: str) -> None:
        challenge = f'Bearer realm="{REALM}"'
        if reason != "missing_token":
            challenge += f', error="invalid_token", error_description="{reason}"'
        super().__init__("invalid_token", message, details={"reason": reason}, headers={"WWW-Authenticate": challenge})


class ForbiddenError(ApiError):
    status = 403


class NotFoundError(ApiError):
    status = 404

    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class ConflictError(ApiError):
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)


class UnsupportedMediaTypeError(ApiError):
    status = 415

    def __init__(self, message: str) -> None:
        super().__init__("unsupported_media_type", message)


class ValidationFailedError(ApiError):
    status = 422

    def __init__(self, errors: Sequence[Mapping[str, str]]) -> None:
        super().__init__(
            "validation_failed", "The upload was rejected; see details.errors.", details={"errors": list(errors)}
        )


class UpstreamError(ApiError):
    status = 502


class UnavailableError(ApiError):
    status = 503

    def __init__(self, code: str, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(code, message, details=details, headers={"Retry-After": "1"})


class IntegrityCheckError(ApiError):
    status = 500

    def __init__(self) -> None:
        super().__init__("integrity_check_failed", "This document failed its integrity check and cannot be opened.")
