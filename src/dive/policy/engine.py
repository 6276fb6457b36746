"""The policy engine interface (spec/abac.md §1, CONSISTENCY #7) and its result types. Pure: no engine imported.

Adapters in `dive.policy.engines` implement `PolicyEngine`; callers parse nothing themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from dive.policy.errors import PolicyQueryError

__all__ = [
    "CHECK_IDS",
    "DECISION_PATH",
    "LABEL_CHECK_PATH",
    "Decision",
    "LabelCheck",
    "PolicyEngine",
    "QueryResult",
]

DECISION_PATH: Final = "dive/authz/decision"
LABEL_CHECK_PATH: Final = "dive/labels/check"

# §3: the thirteen checks in evaluation order.
CHECK_IDS: Final = (
    "authenticated",
    "required_attributes",
    "clearance_sufficient",
    "country_releasable",
    "coi_satisfied",
    "embargo_passed",
    "ztdf_integrity_valid",
    "upload_releasability_valid",
    "aal_sufficient",
    "industry_access_allowed",
    "industry_clearance_cap_ok",
    "coi_coherent",
    "federation_trusted",
)


@dataclass(frozen=True)
class Decision:
    """`data.dive.authz.decision` (§1.3). `raw` is the object exactly as the engine returned it."""

    allow: bool
    reason: str
    obligations: tuple[Mapping[str, object], ...]
    evaluation_details: Mapping[str, object]
    raw: Mapping[str, object] = field(repr=False)

    @property
    def checks(self) -> Mapping[str, bool]:
        return self.evaluation_details["checks"]  # type: ignore[return-value]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(self.evaluation_details["failed"])  # type: ignore[arg-type]

    @property
    def revision(self) -> str | None:
        revision = self.evaluation_details.get("policy_revision")
        return revision if isinstance(revision, str) else None

    @classmethod
    def from_result(cls, result: object) -> Decision:
        """Validate an engine's decision object; anything off-contract is a query failure, never a decision."""
        if not isinstance(result, dict):
            raise PolicyQueryError(f"the policy returned {type(result).__name__} instead of a decision object")
        allow, reason = result.get("allow"), result.get("reason")
        obligations, details = result.get("obligations"), result.get("evaluation_details")
        if not (isinstance(allow, bool) and isinstance(reason, str) and isinstance(obligations, list)):
            raise PolicyQueryError("the policy decision lacks a boolean allow, a reason or an obligations list")
        if not isinstance(details, dict) or not _checks_are_complete(details):
            raise PolicyQueryError("the policy decision lacks the thirteen checks or the failed list")
        if allow != (not details["failed"]):
            raise PolicyQueryError("the policy decision's allow contradicts its failed checks")
        return cls(allow, reason, tuple(obligations), details, result)


def _checks_are_complete(details: Mapping[str, object]) -> bool:
    checks, failed = details.get("checks"), details.get("failed")
    return (
        isinstance(checks, dict)
        and set(checks) == set(CHECK_IDS)
        and all(isinstance(value, bool) for value in checks.values())
        and isinstance(failed, list)
        and failed == [name for name in CHECK_IDS if checks[name] is False]
    )


@dataclass(frozen=True)
class LabelCheck:
    """`data.dive.labels.check` (§3.12). `codes` parallels `violations`: P7-P12, V1-V7 or a snake_case name."""

    valid: bool
    violations: tuple[str, ...]
    codes: tuple[str, ...] = ()

    @classmethod
    def from_result(cls, result: object) -> LabelCheck:
        if not isinstance(result, dict):
            raise PolicyQueryError(f"the label check returned {type(result).__name__} instead of an object")
        valid, violations, codes = result.get("valid"), result.get("violations"), result.get("codes", [])
        if not isinstance(valid, bool) or not _is_string_list(violations) or not _is_string_list(codes):
            raise PolicyQueryError("the label check lacks a boolean valid or a list of violations")
        return cls(valid, tuple(violations), tuple(codes))  # type: ignore[arg-type]


def _is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(frozen=True)
class QueryResult:
    """A generic data-path evaluation for the OPA API: `defined` is false where OPA answers `{}`."""

    defined: bool
    value: object = None


class PolicyEngine(Protocol):
    def decide(self, input: Mapping[str, object]) -> Decision: ...

    def decide_many(self, inputs: Sequence[Mapping[str, object]]) -> list[Decision]: ...

    def check_label(self, resource: Mapping[str, object], strict: bool) -> LabelCheck: ...

    def revision(self) -> str: ...

    def query(self, path: str, input: object | None = None) -> QueryResult: ...

    def reload(
        self, data: Mapping[str, object] | None = None, extra_modules: Mapping[str, str] | None = None
    ) -> None: ...
