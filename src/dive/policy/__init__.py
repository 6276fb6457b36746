"""The policy component: the Rego bundle, `data.dive`, the `PolicyEngine` interface and its adapters."""

from __future__ import annotations

from dive.policy.bundle import (
    BUNDLE_DIR,
    POLICY_VERSION,
    PolicyBundle,
    RegistryData,
    build_data,
    canonical_json,
    compute_revision,
)
from dive.policy.engine import (
    CHECK_IDS,
    DECISION_PATH,
    LABEL_CHECK_PATH,
    Decision,
    LabelCheck,
    PolicyEngine,
    QueryResult,
)
from dive.policy.errors import PolicyBundleError, PolicyError, PolicyQueryError, PolicyUnavailableError

__all__ = [
    "BUNDLE_DIR",
    "CHECK_IDS",
    "DECISION_PATH",
    "LABEL_CHECK_PATH",
    "POLICY_VERSION",
    "Decision",
    "LabelCheck",
    "PolicyBundle",
    "PolicyBundleError",
    "PolicyEngine",
    "PolicyError",
    "PolicyQueryError",
    "PolicyUnavailableError",
    "QueryResult",
    "RegistryData",
    "build_data",
    "canonical_json",
    "compute_revision",
]
