from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import pytest

from dive.policy import PolicyBundle, RegistryData, build_data
from dive.policy.engines import RegopyEngine

REGISTRY = RegistryData(
    tenant_id="USA",
    trusted_issuers={
        "https://idp.usa": "USA",
        "https://idp.deu": "DEU",
        "https://idp.fra": "FRA",
        "https://idp.gbr": "GBR",
    },
    matrix={"DEU": ["USA"], "FRA": [], "GBR": ["USA"], "USA": ["DEU", "FRA", "GBR"]},
    tenants={
        "GBR": {"aal_top_secret": 3, "strict_coi_coherence": True, "industry_caps": {"DEU": "SECRET"}},
    },
    test_codes=("XTA",),
)

BASE_INPUT: Mapping[str, object] = {
    "subject": {
        "authenticated": True,
        "uniqueID": "testuser-deu-4",
        "clearance": "GEHEIM",
        "countryOfAffiliation": "DEU",
        "acpCOI": ["NATO"],
        "organizationType": "GOV",
        "issuer": "https://idp.deu",
    },
    "action": {"operation": "read"},
    "resource": {
        "resourceId": "doc-USA-seed-00001",
        "classification": "SECRET",
        "releasabilityTo": ["DEU", "USA"],
        "COI": ["NATO"],
        "coiOperator": "ALL",
        "caveats": [],
        "creationDate": "2024-06-01T00:00:00Z",
        "releasableToIndustry": False,
        "encrypted": True,
        "kasUrls": ["https://localhost:9000/kas", "https://localhost:9000/kas", "https://localhost:9011/kas"],
        "ztdf": {"integrityValidated": True, "policyHash": "ab12", "payloadHash": "cd34"},
    },
    "context": {"currentTime": "2025-01-01T00:00:00Z", "acr": "2", "amr": ["pwd", "otp"], "tenant": "USA"},
}


def _build_input(patch: Mapping[str, Mapping[str, object]], remove: list[str]) -> dict[str, object]:
    """BASE_INPUT with `patch` merged per section (a null value deletes the field) and dotted paths removed."""
    document = copy.deepcopy(dict(BASE_INPUT))
    for section, fields in patch.items():
        target = document.setdefault(section, {})
        for key, value in fields.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                target[key] = {**target[key], **value}
            else:
                target[key] = value
    for path in remove:
        *parents, leaf = path.split(".")
        node = document
        for name in parents:
            node = node[name]
        node.pop(leaf)
    return document


@pytest.fixture(scope="session")
def policy_bundle() -> PolicyBundle:
    return PolicyBundle.load()


@pytest.fixture(scope="session")
def engine(policy_bundle: PolicyBundle) -> RegopyEngine:
    return RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, REGISTRY))


InputFactory = Callable[[Mapping[str, Mapping[str, object]], list[str]], dict[str, object]]


@pytest.fixture(scope="session")
def make_input() -> InputFactory:
    return _build_input
