"""Real `dive serve pdp` processes for the PDP integration tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import ServiceProcess, start_service

AUTHZEN_POLICIES = Path(__file__).resolve().parent / "authzen"
INTEROP_DIR = Path(os.environ.get("DIVE_INTEROP_DIR") or Path(__file__).resolve().parents[4] / "shared" / "interop")
USA_ISSUER = "https://localhost:8443/realms/dive-v3-broker-usa"


@pytest.fixture(scope="module")
def pdp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The hub's pdp, polling its registry every 0.2 s so reload tests stay short."""
    home = tmp_path_factory.mktemp("pdp-home")
    env = {"DIVE_REGISTRY_POLL_S": "0.2", "DIVE_ISSUER": USA_ISSUER}
    with start_service("pdp", "usa", home=home, env=env) as service:
        yield service


def start_authzen_pdp(tmp_path_factory: pytest.TempPathFactory, scenario: str) -> ServiceProcess:
    """A pdp whose AuthZEN endpoints answer from the scenario's own package, loaded beside `dive.*`."""
    home = tmp_path_factory.mktemp(f"pdp-{scenario}")
    env = {
        "DIVE_PDP_EXTRA_POLICY_DIR": str(AUTHZEN_POLICIES / scenario),
        "DIVE_PDP_AUTHZEN_PATH": f"authzen/{scenario}/decision",
    }
    return start_service("pdp", "usa", home=home, env=env)


def authenticated_read(**resource: object) -> dict[str, object]:
    """A complete, allowed SECRET read by a USA user at AAL2; tests change one field to provoke a deny."""
    return {
        "subject": {
            "authenticated": True,
            "uniqueID": "testuser-usa-4",
            "clearance": "SECRET",
            "countryOfAffiliation": "USA",
            "acpCOI": ["NATO"],
            "organizationType": "GOV",
            "issuer": USA_ISSUER,
        },
        "action": {"operation": "read"},
        "resource": {
            "resourceId": "doc-USA-seed-00001",
            "classification": "SECRET",
            "releasabilityTo": ["USA", "FRA"],
            "COI": [],
            "coiOperator": "ALL",
            "caveats": [],
            "releasableToIndustry": False,
            "encrypted": True,
            "kasUrls": ["https://localhost:9000/kas"],
            **resource,
        },
        "context": {"acr": "2", "amr": ["pwd", "otp"], "tenant": "USA"},
    }
