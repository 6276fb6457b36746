"""Federation automation (spec/orchestration.md §8): linking, registration, sync, verification, legacy import."""

from __future__ import annotations

from dive.federation.discovery import Discovery, fetch_discovery
from dive.federation.errors import (
    AdminApiError,
    FederationError,
    LegacyRegistryError,
    LegacyVerificationError,
    LinkFailedError,
    PartnerUnreachableError,
    PendingApprovalError,
    RegistrationError,
    RejectedError,
    WrongStateError,
)
from dive.federation.idp_admin import IdpAdminClient
from dive.federation.legacy import MigrationResult, legacy_registry_path, migrate_legacy, read_through_legacy
from dive.federation.linking import (
    LinkSide,
    ensure_realm_half,
    link_partners,
    remove_realm_half,
    set_realm_half_enabled,
    unlink_partners,
)
from dive.federation.local import LocalFederation, pair_secret_path
from dive.federation.partners import Partner, local_partner
from dive.federation.probes import VerifyTarget, verify_federation
from dive.federation.records import link_rows, record_link_result, set_link_rows
from dive.federation.registration import (
    HubApi,
    HubCredential,
    Registration,
    RegistrationRequest,
    await_approval,
    register_spoke,
    registration_verdict,
)
from dive.federation.sync import KasSyncResult, sync_hub_record, sync_kas_registry
from dive.federation.verify import VerifyReport, next_delay, parse_attempts, parse_schedule

__all__ = [
    "AdminApiError",
    "Discovery",
    "FederationError",
    "HubApi",
    "HubCredential",
    "IdpAdminClient",
    "KasSyncResult",
    "LegacyRegistryError",
    "LegacyVerificationError",
    "LinkFailedError",
    "LinkSide",
    "LocalFederation",
    "MigrationResult",
    "Partner",
    "PartnerUnreachableError",
    "PendingApprovalError",
    "Registration",
    "RegistrationError",
    "RegistrationRequest",
    "RejectedError",
    "VerifyReport",
    "VerifyTarget",
    "WrongStateError",
    "await_approval",
    "ensure_realm_half",
    "fetch_discovery",
    "legacy_registry_path",
    "link_partners",
    "link_rows",
    "local_partner",
    "migrate_legacy",
    "next_delay",
    "pair_secret_path",
    "parse_attempts",
    "parse_schedule",
    "read_through_legacy",
    "record_link_result",
    "register_spoke",
    "registration_verdict",
    "remove_realm_half",
    "set_link_rows",
    "set_realm_half_enabled",
    "sync_hub_record",
    "sync_kas_registry",
    "unlink_partners",
    "verify_federation",
]
