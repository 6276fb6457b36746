"""Registering a spoke at a real hub api with an enrolment token (orchestration §8.2, Amendment A1; CONSISTENCY #13),
approval polling, the spoke-side sync (§8.4) and `dive federation list|approve|status` against that registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dive.api import issue_enrolment_token
from dive.federation import (
    HubApi,
    HubCredential,
    PendingApprovalError,
    RegistrationError,
    RegistrationRequest,
    await_approval,
    register_spoke,
    sync_hub_record,
    sync_kas_registry,
)
from dive.federation.records import instance_session
from dive.pki import ca_bundle_path, ssl_context_for
from dive.secrets import LocalKeystore
from dive.store import FederationRegistryRepository, ensure_schema, instance_database_url
from harness import ServiceProcess, start_service

ADMIN_KEY = "hub-admin-key-" + "k" * 40


@dataclass
class Hub:
    home: Path
    api: ServiceProcess

    @property
    def url(self) -> str:
        return f"https://localhost:{self.api.port}"

    def http(self) -> httpx.Client:
        return httpx.Client(verify=ssl_context_for(ca_bundle_path(self.home)))

    def dive(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DIVE_HOME": str(self.home), "DIVE_HUB_URL": self.url, "DIVE_ENV": "test"}
        command = [sys.executable, "-m", "dive", "--home", str(self.home), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    home = tmp_path_factory.mktemp("registration") / "home"
    home.mkdir(mode=0o700)
    LocalKeystore(home).put("usa/federation-admin-key", ADMIN_KEY)
    ensure_schema(instance_database_url(home, "usa"))
    env = {"DIVE_API_OWN_ISSUER": "https://localhost:8443/realms/dive-v3-broker-usa", "DIVE_API_WORKERS": "1"}
    with start_service("api", "usa", home=home, env=env, timeout_s=60) as api:
        yield Hub(home=home, api=api)


def _token(hub: Hub, code: str) -> str:
    with instance_session(instance_database_url(hub.home, "usa")) as session:
        return issue_enrolment_token(session, code, ttl_s=600, auto_approve=False)


def _request(code: str) -> RegistrationRequest:
    return RegistrationRequest(code=code, name=code.upper(), api_url="https://localhost:4010",
                               web_url="https://localhost:3010", idp_url="https://localhost:8453",
                               issuer=f"https://localhost:8453/realms/dive-v3-broker-{code}",
                               kas_url="https://localhost:9010/kas", version="3.0.0", approve=True,
                               federation_secret="pair-secret-" + "s" * 30)  # fmt: skip


def test_a_spoke_registers_with_an_enrolment_token_pending_until_approved_then_syncs(hub: Hub, dive_home: Path):
    admin = HubCredential("admin_key", ADMIN_KEY)
    with hub.http() as http:
        api = HubApi(f"{hub.url}/api", http)
        metadata = api.metadata()
        registration = register_spoke(api, _request("fra"), HubCredential("enrolment_token", _token(hub, "fra")))
        assert registration.created and registration.status == "pending" and registration.spoke_token
        with pytest.raises(PendingApprovalError) as pending:
            await_approval(api, "fra", admin, timeout_s=0.3, interval_s=0.1)
        assert pending.value.code == "fed_pending_approval" and "dive federation approve FRA" in (
            pending.value.remediation or ""
        )
        api.transition("fra", "approve", {"trustLevel": "bilateral"}, admin)
        record = await_approval(api, "fra", admin, timeout_s=1, interval_s=0.1)
        servers = api.kas_registry(admin)
    assert record["status"] == "approved" and record["instanceCode"] == "FRA"
    spoke_db = instance_database_url(dive_home, "fra")
    ensure_schema(spoke_db)
    with instance_session(spoke_db) as session:
        sync_hub_record(session, "fra", metadata)
        sync_kas_registry(session, "fra", servers)
    with instance_session(spoke_db) as session:
        snapshot = FederationRegistryRepository().read_policy_registry(session)
    assert [p.issuer for p in snapshot.trusted_partners] == [metadata["issuer"]]
    assert snapshot.matrix == {"FRA": ("USA",), "USA": ("FRA",)}


def test_an_enrolment_token_is_single_use(hub: Hub):
    token = HubCredential("enrolment_token", _token(hub, "deu"))
    with hub.http() as http:
        api = HubApi(hub.url, http)
        register_spoke(api, _request("deu"), token)
        with pytest.raises(RegistrationError) as again:
            register_spoke(api, _request("deu"), token)
    assert again.value.code == "fed_registration_failed"
    assert again.value.detail["status"] == 401


def test_federation_list_json_shows_the_registry_and_approve_on_a_revoked_spoke_exits_2(hub: Hub):
    with hub.http() as http:
        api = HubApi(hub.url, http)
        register_spoke(api, _request("ita"), HubCredential("enrolment_token", _token(hub, "ita")))
        api.transition("ita", "revoke", {"reason": "test"}, HubCredential("admin_key", ADMIN_KEY))
    listed = hub.dive("federation", "list", "--revoked", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["code"] for row in json.loads(listed.stdout)["spokes"]] == ["ITA"]
    refused = hub.dive("federation", "approve", "ITA")
    assert refused.returncode == 2 and "revoked" in refused.stderr
    status = hub.dive("federation", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["schema"] == "dive.federation.status/1"
