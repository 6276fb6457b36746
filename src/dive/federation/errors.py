"""Errors of the federation automation (spec/orchestration.md §8). `exit_code` is the CLI's status for each.

FederationError                 federation_error         exit 1
├─ PartnerUnreachableError      partner_unreachable      exit 1
├─ AdminApiError                idp_admin_failed         exit 1
├─ RegistrationError            fed_registration_failed  exit 1
│  ├─ PendingApprovalError      fed_pending_approval     exit 1
│  ├─ RejectedError             fed_rejected             exit 1
│  └─ LinkFailedError           fed_link_failed          exit 1
├─ WrongStateError              fed_wrong_state          exit 2 (e.g. `link` on a pending spoke)
└─ LegacyRegistryError          legacy_registry_invalid  exit 1
   └─ LegacyVerificationError   legacy_import_failed     exit 1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "AdminApiError",
    "FederationError",
    "LegacyRegistryError",
    "LegacyVerificationError",
    "LinkFailedError",
    "PartnerUnreachableError",
    "PendingApprovalError",
    "RegistrationError",
    "RejectedError",
    "WrongStateError",
]


class FederationError(Exception):
    code: ClassVar[str] = "federation_error"
    exit_code: ClassVar[int] = 1

    def __init__(
        self, message: str, detail: Mapping[str, object] | None = None, *, remediation: str | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.detail, self.remediation = message, dict(detail or {}), remediation


class PartnerUnreachableError(FederationError):
    code = "partner_unreachable"


class AdminApiError(FederationError):
    code = "idp_admin_failed"


class RegistrationError(FederationError):
    code = "fed_registration_failed"


class PendingApprovalError(RegistrationError):
    code = "fed_pending_approval"


class RejectedError(RegistrationError):
    code = "fed_rejected"


class LinkFailedError(RegistrationError):
    code = "fed_link_failed"


class WrongStateError(FederationError):
    code = "fed_wrong_state"
    exit_code = 2


class LegacyRegistryError(FederationError):
    code = "legacy_registry_invalid"


class LegacyVerificationError(LegacyRegistryError):
    code = "legacy_import_failed"
