"""Bearer access-token verification shared by the api and the KAS (identity-api-ui §B.2, spec/ztdf-kas.md §7.4)."""

from __future__ import annotations

from dive.tokens.errors import TokenCheckUnavailableError, TokenError, TokenRejectedError
from dive.tokens.verifier import (
    TokenVerifier,
    TrustedIssuer,
    TrustedIssuerSource,
    VerifiedToken,
    decode_segment,
    own_jwks_uri,
)

__all__ = [
    "TokenCheckUnavailableError",
    "TokenError",
    "TokenRejectedError",
    "TokenVerifier",
    "TrustedIssuer",
    "TrustedIssuerSource",
    "VerifiedToken",
    "decode_segment",
    "own_jwks_uri",
]
