"""Authenticating requests (identity-api-ui §B.2) and the admin checks of §B.1.2.

`Authenticator.authenticate(request)` verifies the bearer token with the shared `dive.tokens` verifier, checks
revocation, and returns the `Principal` whose verified claims are the only source of the PEP's subject (D7).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request

from dive.api.errors import ForbiddenError, TokenInvalidError, UnavailableError
from dive.api.revocation import RevocationList
from dive.tokens import TokenCheckUnavailableError, TokenRejectedError, TokenVerifier, VerifiedToken

__all__ = ["ADMIN_KEY_HEADER", "ADMIN_ROLE", "Authenticator", "Principal"]

ADMIN_ROLE: Final = "dive-admin"
ADMIN_KEY_HEADER: Final = "x-admin-key"


@dataclass(frozen=True)
class Principal:
    """A verified caller. `local` is true for tokens of the own realm, the only ones whose roles count (§0.5)."""

    token: VerifiedToken
    local: bool

    @property
    def claims(self) -> Mapping[str, Any]:
        return self.token.claims

    @property
    def roles(self) -> list[str]:
        realm_access = self.claims.get("realm_access")
        roles = realm_access.get("roles") if isinstance(realm_access, dict) else None
        return [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []

    @property
    def is_admin(self) -> bool:
        return self.local and ADMIN_ROLE in self.roles

    @property
    def bearer(self) -> str:
        return self.token.token


class Authenticator:
    def __init__(self, *, verifier: TokenVerifier, revocations: RevocationList, own_code: str, admin_key: str | None):
        self._verifier, self._revocations = verifier, revocations
        self._own_code, self._admin_key = own_code, admin_key

    async def authenticate(self, request: Request) -> Principal:
        try:
            verified = await self._verifier.verify(request.headers.get("authorization"))
            if await self._revocations.is_revoked(verified.claims):
                raise TokenRejectedError("revoked", "The access token has been revoked; sign in again")
        except TokenRejectedError as exc:
            raise TokenInvalidError(exc.code, exc.message) from exc
        except TokenCheckUnavailableError as exc:
            code = "revocation_unavailable" if exc.code == "revocation_unavailable" else "service_unavailable"
            raise UnavailableError(code, exc.message) from exc
        return Principal(verified, local=verified.issuer.instance_code == self._own_code)

    def has_admin_key(self, request: Request) -> bool:
        """`X-Admin-Key` equal, in constant time, to the instance's federation admin key (absent: never)."""
        presented = request.headers.get(ADMIN_KEY_HEADER)
        if not presented or not self._admin_key:
            return False
        return hmac.compare_digest(presented.encode(), self._admin_key.encode())

    async def require_admin(self, request: Request) -> Principal | None:
        """Admin routes: the admin key, or a token of the own realm with `dive-admin`. Authentication always runs
        first, so a role check never sees an unauthenticated caller (§B.10 item 2). None means the admin key."""
        if self.has_admin_key(request):
            return None
        principal = await self.authenticate(request)
        if not principal.is_admin:
            raise ForbiddenError("insufficient_role", "This route needs the dive-admin role of this instance's realm.")
        return principal
