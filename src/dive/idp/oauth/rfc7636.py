"""Proof Key for Code Exchange (RFC 7636). Only S256 is accepted (§A.5.2: `plain` is refused)."""

from __future__ import annotations

import hmac
import re

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive.idp.errors import OAuthError

__all__ = ["check_challenge_request", "verify_s256"]

VERIFIER_SYNTAX = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # §4.1
CHALLENGE_SYNTAX = re.compile(r"[A-Za-z0-9\-_]{43}")  # §4.2: base64url(SHA-256), no padding


def check_challenge_request(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """Validate the authorization request's PKCE parameters (§4.3); returns the challenge to bind to the code."""
    if not challenge:
        if required:
            raise OAuthError("invalid_request", "Missing parameter: code_challenge_method")
        return None
    if (method or "plain") != "S256":
        raise OAuthError("invalid_request", "Invalid parameter: code challenge method is not supported")
    if not CHALLENGE_SYNTAX.fullmatch(challenge):
        raise OAuthError("invalid_request", "Invalid parameter: code_challenge")
    return challenge


def verify_s256(verifier: str | None, challenge: str | None) -> None:
    """§4.6: the token request's verifier must hash to the bound challenge (compared in constant time)."""
    if challenge is None:
        if verifier:
            raise OAuthError("invalid_grant", "PKCE verifier given but no code challenge was sent")
        return
    if not verifier:
        raise OAuthError("invalid_grant", "PKCE code verifier not specified")
    if not VERIFIER_SYNTAX.fullmatch(verifier):
        raise OAuthError("invalid_grant", "Invalid code verifier")
    if not hmac.compare_digest(create_s256_code_challenge(verifier), challenge):
        raise OAuthError("invalid_grant", "PKCE verification failed: Code mismatch")
