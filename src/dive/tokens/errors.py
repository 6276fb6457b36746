"""Errors of bearer-token verification (identity-api-ui §B.2; spec/ztdf-kas.md §7.4).

TokenError                        (base; `code` is stable snake_case, `status` the HTTP status a service answers)
├─ TokenRejectedError             401; `code` is the §B.1.3 reason: missing_token, malformed, wrong_token_type,
│                                 issuer_not_trusted, unknown_key, bad_signature, expired, not_yet_valid,
│                                 audience_mismatch, azp_not_allowed, revoked
└─ TokenCheckUnavailableError     503; issuers_unavailable, jwks_unavailable, revocation_unavailable: a check could
                                  not run, so the token is refused (fail closed)
"""

from __future__ import annotations

__all__ = ["TokenCheckUnavailableError", "TokenError", "TokenRejectedError"]


class TokenError(Exception):
    status = 500

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class TokenRejectedError(TokenError):
    status = 401


class TokenCheckUnavailableError(TokenError):
    status = 503
