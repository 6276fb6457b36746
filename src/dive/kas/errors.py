"""Errors of the Key Access Service (spec/ztdf-kas.md §7.6, §11).

KasError                         (base; `code` is the DIVE code, `status` the HTTP status)
├─ RequestInvalidError           request_invalid, srt_invalid, client_key_invalid, unsupported_algorithm (400),
│                                request_too_large (413), unsupported_media_type (415)
├─ AuthenticationError           token_missing, token_invalid, token_expired, issuer_not_trusted, dpop_invalid,
│                                srt_invalid (401)
├─ RateLimitedError              rate_limited (429)
├─ KasUnavailableError           pdp_unavailable, audit_unavailable, service_unavailable (503)
└─ KeyStoreError                 kas_key_store_invalid, kas_no_active_key, kas_key_exists: the key store cannot serve
                                 (the KAS refuses to start; the CLI reports it)
Per-KAO failures are not exceptions: they are `fail` results carrying one of `KAO_ERROR_CODES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "CONNECT_CODES",
    "KAO_ERROR_CODES",
    "AuthenticationError",
    "KasError",
    "KasUnavailableError",
    "KeyStoreError",
    "RateLimitedError",
    "RequestInvalidError",
]

KAO_ERROR_CODES: Final = (
    "kao_invalid",
    "unsupported_key_type",
    "unknown_kid",
    "key_revoked",
    "key_unwrap_failed",
    "policy_binding_mismatch",
    "policy_invalid",
    "policy_unknown_attribute",
    "policy_unlabelled",
    "policy_denied",
    "pdp_error",
    "rewrap_failed",
)
# §7.6: the Connect code clients read for each HTTP status.
CONNECT_CODES: Final[Mapping[int, str]] = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "unimplemented",
    413: "resource_exhausted",
    415: "invalid_argument",
    429: "resource_exhausted",
    500: "internal",
    503: "unavailable",
}


class KasError(Exception):
    status = 500

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        if status is not None:
            self.status = status


class RequestInvalidError(KasError):
    status = 400


class AuthenticationError(KasError):
    status = 401


class RateLimitedError(KasError):
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__("rate_limited", message)
        self.retry_after_s = retry_after_s


class KasUnavailableError(KasError):
    status = 503


class KeyStoreError(KasError):
    status = 503
