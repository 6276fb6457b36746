"""Request bodies of the admin API (§A.9): the Keycloak representation fields the idp reads, with their types.

They describe the bodies in `/openapi.json` and reject wrongly typed fields at the edge (`400 invalid_request`)
before any of them reaches storage. Unknown fields are allowed and kept (§A.9 round-trip safety); routes hand the
core `body(rep)`, a plain mapping of the fields the caller sent with a value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dive.idp.model import REALM_DEFAULTS

__all__ = [
    "ClientRep",
    "CredentialRep",
    "IdentityProviderRep",
    "MapperRep",
    "RealmRep",
    "RoleRep",
    "UserRep",
    "body",
]


Setting = Annotated[int, Field(ge=0, le=10**9)]  # seconds or counts; the bound keeps date arithmetic finite
NumericAttribute = Annotated[str, Field(pattern=r"^[0-9]{1,9}$")]  # Keycloak attributes are strings


class _Rep(BaseModel):
    model_config = ConfigDict(extra="allow")


def body(rep: BaseModel) -> dict[str, Any]:
    """The fields the caller sent with a value: absent and null ones stay absent, so an update keeps their stored
    value (Keycloak reads a null field of a representation as "not given")."""
    return rep.model_dump(exclude_unset=True, exclude_none=True, by_alias=True)


class CredentialRep(_Rep):
    type: str | None = None
    value: str | None = None
    temporary: bool | None = None
    secretData: dict[str, Any] | str | None = None
    credentialData: dict[str, Any] | str | None = None


class UserRep(_Rep):
    username: str | None = None
    enabled: bool | None = None
    emailVerified: bool | None = None
    email: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    attributes: dict[str, list[str] | str] | None = None
    requiredActions: list[str] | None = None
    credentials: list[CredentialRep] | None = None
    realmRoles: list[str] | None = None


class _ClientAttributes(_Rep):
    access_token_lifespan: NumericAttribute | None = Field(default=None, alias="access.token.lifespan")


class ClientRep(_Rep):
    clientId: str | None = None
    name: str | None = None
    enabled: bool | None = None
    publicClient: bool | None = None
    secret: str | None = None
    redirectUris: list[str] | None = None
    webOrigins: list[str] | None = None
    standardFlowEnabled: bool | None = None
    directAccessGrantsEnabled: bool | None = None
    serviceAccountsEnabled: bool | None = None
    protocol: str | None = None
    attributes: _ClientAttributes | None = None
    defaultClientScopes: list[str] | None = None
    protocolMappers: list[dict[str, Any]] | None = None


class RoleRep(_Rep):
    name: str | None = None
    description: str | None = None


class IdentityProviderRep(_Rep):
    alias: str | None = None
    displayName: str | None = None
    providerId: str | None = None
    enabled: bool | None = None
    trustEmail: bool | None = None
    storeToken: bool | None = None
    hideOnLogin: bool | None = None
    linkOnly: bool | None = None
    firstBrokerLoginFlowAlias: str | None = None
    config: dict[str, str | bool | int] | None = None


class MapperRep(_Rep):
    name: str | None = None
    identityProviderAlias: str | None = None
    identityProviderMapper: str | None = None
    config: dict[str, str | bool | int] | None = None


class _RealmAttributes(_Rep):
    key_rotation_days: NumericAttribute | None = Field(default=None, alias="dive.keyRotationDays")
    key_retention_hours: NumericAttribute | None = Field(default=None, alias="dive.keyRetentionHours")


class _RealmRoles(_Rep):
    realm: list[RoleRep] | None = None


class RealmRep(_Rep):
    """Settings the token, session and brute-force code read are typed and never null, so a PUT cannot plant a
    value that breaks a later login; the defaults only document them (absent fields stay absent)."""

    realm: str | None = None
    enabled: bool = REALM_DEFAULTS["enabled"]
    displayName: str | None = None
    accessTokenLifespan: Setting = REALM_DEFAULTS["accessTokenLifespan"]
    ssoSessionIdleTimeout: Setting = REALM_DEFAULTS["ssoSessionIdleTimeout"]
    ssoSessionMaxLifespan: Setting = REALM_DEFAULTS["ssoSessionMaxLifespan"]
    revokeRefreshToken: bool = REALM_DEFAULTS["revokeRefreshToken"]
    refreshTokenMaxReuse: Setting = REALM_DEFAULTS["refreshTokenMaxReuse"]
    accessCodeLifespan: Setting = REALM_DEFAULTS["accessCodeLifespan"]
    accessCodeLifespanLogin: Setting = REALM_DEFAULTS["accessCodeLifespanLogin"]
    passwordPolicy: str = REALM_DEFAULTS["passwordPolicy"]
    bruteForceProtected: bool = REALM_DEFAULTS["bruteForceProtected"]
    failureFactor: Setting = REALM_DEFAULTS["failureFactor"]
    waitIncrementSeconds: Setting = REALM_DEFAULTS["waitIncrementSeconds"]
    maxFailureWaitSeconds: Setting = REALM_DEFAULTS["maxFailureWaitSeconds"]
    maxDeltaTimeSeconds: Setting = REALM_DEFAULTS["maxDeltaTimeSeconds"]
    permanentLockout: bool = REALM_DEFAULTS["permanentLockout"]
    otpPolicyDigits: Setting = REALM_DEFAULTS["otpPolicyDigits"]
    otpPolicyPeriod: Setting = REALM_DEFAULTS["otpPolicyPeriod"]
    otpPolicyLookAheadWindow: Setting = REALM_DEFAULTS["otpPolicyLookAheadWindow"]
    eventsEnabled: bool = REALM_DEFAULTS["eventsEnabled"]
    eventsExpiration: Setting = REALM_DEFAULTS["eventsExpiration"]
    attributes: _RealmAttributes | None = None
    users: list[UserRep] | None = None
    clients: list[ClientRep] | None = None
    roles: _RealmRoles | None = None
    identityProviders: list[IdentityProviderRep] | None = None
    identityProviderMappers: list[MapperRep] | None = None
