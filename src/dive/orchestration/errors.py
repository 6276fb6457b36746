"""Errors of the orchestrator (spec/orchestration.md §2.1, §7.2). `code.upper()` is the code recorded in
`orchestration_errors` and shown in `dive.error/1`; `exit_code` is the CLI's exit status for it.

OrchestrationError                 orchestration_error          exit 1
├─ UsageError                      usage_error                  exit 2
├─ PreconditionError               precondition_failed          exit 2
├─ LockHeldError                   lock_held                    exit 2 (detail: holder)
├─ BreakerOpenError                breaker_open                 exit 2
├─ InvalidTransitionError          state_transition_rejected    exit 1
├─ PhaseError                      <the phase's own code>       exit 1 (e.g. phase_exit_check_failed)
├─ RunCancelledError               run_cancelled                exit 130
└─ SupervisorError                 supervisor_unavailable       exit 1
   ├─ ServiceStartError            service_start_failed         exit 1 (detail: log_tail)
   └─ ServiceHealthTimeoutError    service_health_timeout       exit 1 (detail: log_tail)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "BreakerOpenError",
    "InvalidTransitionError",
    "LockHeldError",
    "OrchestrationError",
    "PhaseError",
    "PreconditionError",
    "RunCancelledError",
    "ServiceHealthTimeoutError",
    "ServiceStartError",
    "SupervisorError",
    "UsageError",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_REFUSED: Final = 2
EXIT_CANCELLED: Final = 130


class OrchestrationError(Exception):
    """Base of every orchestrator failure: a stable `code`, a sentence for a person, optional detail."""

    code: ClassVar[str] = "orchestration_error"
    exit_code: ClassVar[int] = EXIT_FAILED

    def __init__(
        self, message: str, detail: Mapping[str, object] | None = None, *, remediation: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = dict(detail or {})
        self.remediation = remediation

    @property
    def record_code(self) -> str:
        """The upper-case code of `orchestration_errors.error_code` and `dive.error/1`."""
        return self.code.upper()


class UsageError(OrchestrationError):
    code = "usage_error"
    exit_code = EXIT_REFUSED


class PreconditionError(OrchestrationError):
    code = "precondition_failed"
    exit_code = EXIT_REFUSED


class LockHeldError(OrchestrationError):
    code = "lock_held"
    exit_code = EXIT_REFUSED


class BreakerOpenError(OrchestrationError):
    code = "breaker_open"
    exit_code = EXIT_REFUSED


class InvalidTransitionError(OrchestrationError):
    code = "state_transition_rejected"


class PhaseError(OrchestrationError):
    """A phase failed; `error_code` is the §7.2 code (snake case, e.g. `service_health_timeout`)."""

    def __init__(
        self,
        error_code: str,
        message: str,
        detail: Mapping[str, object] | None = None,
        *,
        remediation: str | None = None,
    ) -> None:
        super().__init__(message, detail, remediation=remediation)
        self.error_code = error_code

    @property
    def record_code(self) -> str:
        return self.error_code.upper()


class RunCancelledError(OrchestrationError):
    code = "run_cancelled"
    exit_code = EXIT_CANCELLED


class SupervisorError(OrchestrationError):
    code = "supervisor_unavailable"


class ServiceStartError(SupervisorError):
    code = "service_start_failed"


class ServiceHealthTimeoutError(SupervisorError):
    code = "service_health_timeout"
