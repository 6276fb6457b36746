"""Every table of the one schema (spec/orchestration.md §5.1). Importing this package completes `Base.metadata`."""

from __future__ import annotations

from dive.store.models import orchestration as orchestration  # registers the tables of orchestration §5.2
from dive.store.models.audit import DecisionLogEntry
from dive.store.models.base import Base
from dive.store.models.enrolment import EnrolmentToken
from dive.store.models.idp import (
    IdpAuthCode,
    IdpAuthSession,
    IdpBrokerState,
    IdpBruteForce,
    IdpClient,
    IdpCredential,
    IdpEvent,
    IdpFederatedIdentity,
    IdpIdentityProvider,
    IdpMapper,
    IdpRealm,
    IdpRefreshToken,
    IdpRole,
    IdpSigningKey,
    IdpSsoSession,
    IdpUser,
    IdpUserRole,
    Revocation,
)
from dive.store.models.kas import KasKey, KasRegistryEntry, KasRegistryKey
from dive.store.models.registry import (
    CoiRegistryEntry,
    FederationLink,
    FederationMatrixEntry,
    FederationSpoke,
    RegistryImport,
    RegistryMeta,
    TenantSetting,
)
from dive.store.models.resources import Resource, ResourceCoi, ResourcePayload, ResourceReleasability

__all__ = [
    "Base",
    "CoiRegistryEntry",
    "DecisionLogEntry",
    "EnrolmentToken",
    "FederationLink",
    "FederationMatrixEntry",
    "FederationSpoke",
    "IdpAuthCode",
    "IdpAuthSession",
    "IdpBrokerState",
    "IdpBruteForce",
    "IdpClient",
    "IdpCredential",
    "IdpEvent",
    "IdpFederatedIdentity",
    "IdpIdentityProvider",
    "IdpMapper",
    "IdpRealm",
    "IdpRefreshToken",
    "IdpRole",
    "IdpSigningKey",
    "IdpSsoSession",
    "IdpUser",
    "IdpUserRole",
    "KasKey",
    "KasRegistryEntry",
    "KasRegistryKey",
    "RegistryImport",
    "RegistryMeta",
    "Resource",
    "ResourceCoi",
    "ResourcePayload",
    "ResourceReleasability",
    "Revocation",
    "TenantSetting",
]
