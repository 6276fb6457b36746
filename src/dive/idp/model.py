"""Plain types of the identity provider's core (no I/O). The repository maps rows to these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["AuthorizationCode", "Client", "Realm", "SsoSession", "User"]

REALM_DEFAULTS: Mapping[str, Any] = {
    "enabled": True,
    "accessTokenLifespan": 900,
    "ssoSessionIdleTimeout": 900,
    "ssoSessionMaxLifespan": 28800,
    "revokeRefreshToken": True,
    "refreshTokenMaxReuse": 0,
    "accessCodeLifespan": 60,
    "accessCodeLifespanLogin": 1800,
    "passwordPolicy": (
        "length(12) and maxLength(128) and upperCase(1) and lowerCase(1) and digits(1) and specialChars(1)"
        " and notUsername and notEmail and passwordHistory(5)"
    ),
    "bruteForceProtected": True,
    "failureFactor": 5,
    "waitIncrementSeconds": 60,
    "maxFailureWaitSeconds": 900,
    "maxDeltaTimeSeconds": 43200,
    "permanentLockout": False,
    "otpPolicyType": "totp",
    "otpPolicyAlgorithm": "HmacSHA1",
    "otpPolicyDigits": 6,
    "otpPolicyPeriod": 30,
    "otpPolicyLookAheadWindow": 1,
    "eventsEnabled": True,
    "eventsExpiration": 604800,
    "attributes": {
        "dive.otpRequiredFromClearance": "CONFIDENTIAL",
        "dive.keyRotationDays": "90",
        "dive.keyRetentionHours": "24",
    },
}


@dataclass(frozen=True, kw_only=True)
class Realm:
    id: str
    name: str
    representation: Mapping[str, Any]

    def setting(self, name: str) -> Any:
        return self.representation.get(name, REALM_DEFAULTS.get(name))

    def attribute(self, name: str) -> str | None:
        attributes = self.representation.get("attributes") or {}
        default = REALM_DEFAULTS["attributes"].get(name)
        value = attributes.get(name, default)
        return None if value is None else str(value)

    @property
    def display_name(self) -> str:
        return str(self.representation.get("displayName") or self.name)

    @property
    def enabled(self) -> bool:
        return bool(self.setting("enabled"))


@dataclass(frozen=True, kw_only=True)
class User:
    id: str
    realm_id: str
    username: str
    enabled: bool = True
    email: str | None = None
    email_verified: bool = False
    first_name: str | None = None
    last_name: str | None = None
    attributes: Mapping[str, list[str]] = field(default_factory=dict)
    required_actions: tuple[str, ...] = ()
    created_ms: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def first(self, attribute: str) -> str | None:
        values = self.attributes.get(attribute) or []
        return values[0] if values else None


@dataclass(frozen=True, kw_only=True)
class Client:
    id: str
    realm_id: str
    client_id: str
    secret: str | None
    representation: Mapping[str, Any]

    def flag(self, name: str, default: bool = False) -> bool:
        return bool(self.representation.get(name, default))

    def attribute(self, name: str) -> str | None:
        value = (self.representation.get("attributes") or {}).get(name)
        return None if value is None else str(value)

    @property
    def enabled(self) -> bool:
        return self.flag("enabled", True)

    @property
    def public(self) -> bool:
        return self.flag("publicClient")

    @property
    def redirect_uris(self) -> list[str]:
        return list(self.representation.get("redirectUris") or [])

    @property
    def audiences(self) -> list[str]:
        raw = self.attribute("dive.audiences") or ""
        return [a.strip() for a in raw.split(",") if a.strip()]

    @property
    def requires_pkce(self) -> bool:
        return self.public or self.attribute("pkce.code.challenge.method") == "S256"

    def access_token_lifespan(self, realm: Realm) -> int:
        own = self.attribute("access.token.lifespan")
        return int(own) if own else int(realm.setting("accessTokenLifespan"))


@dataclass(frozen=True, kw_only=True)
class SsoSession:
    id: str
    realm_id: str
    user_id: str
    started_at: datetime
    last_seen_at: datetime
    auth_time: int
    acr: str
    amr: tuple[str, ...]
    identity_provider: str | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AuthorizationCode:
    code_hash: str
    realm_id: str
    client_id: str
    redirect_uri: str
    session_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    expires_at: datetime
    used_at: datetime | None = None
