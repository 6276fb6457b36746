"""Errors of the policy component. An error never stands for a decision: every caller denies on it (§1.1, D17).

PolicyError
├─ PolicyUnavailableError   policy_unavailable     the engine cannot be reached or is not loaded
├─ PolicyQueryError         policy_query_failed    the engine answered with an error, NULL or a malformed result
└─ PolicyBundleError        policy_bundle_invalid  the Rego sources or data.dive cannot be loaded
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PolicyBundleError", "PolicyError", "PolicyQueryError", "PolicyUnavailableError"]


class PolicyError(Exception):
    def __init__(self, code: str, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.detail = code, message, dict(detail or {})


class PolicyUnavailableError(PolicyError):
    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__("policy_unavailable", message, detail)


class PolicyQueryError(PolicyError):
    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__("policy_query_failed", message, detail)


class PolicyBundleError(PolicyError):
    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__("policy_bundle_invalid", message, detail)
