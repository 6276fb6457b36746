"""`dive spoke deploy` federating with the hub of the same host (orchestration §4.4 C3–C8, §8.2–§8.5; CONSISTENCY #13):
registration and auto-approval, both links, `federation verify`, a TOTP user of FRA signing in at the hub and searching
FRA's documents from there, an idempotent redeploy, and `--skip-federation` staying standalone. One hub + FRA
deployment for the module."""

from __future__ import annotations

import html
import json
import re
import ssl
from collections.abc import Iterator
from subprocess import CompletedProcess
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive import catalog
from dive.federation import HubApi, HubCredential, RegistrationError
from dive.federation.records import instance_session
from dive.secrets import LocalKeystore
from dive.store import FederationRegistryRepository, instance_database_url
from dive.store.models.kas import KasRegistryEntry

from .cli import Deployment

SHIFT = 10000  # orchestration §13.1: this module's own multiple of 10000
SEED_COUNT = "20"
FAST_BACKOFF = {"DIVE_VERIFY_BACKOFF": "1,2,4"}
HUB_REALM = catalog.realm("usa")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, CompletedProcess[str]]]:
    """The hub, then FRA deployed federated: (the deployment, FRA's first `spoke deploy`)."""
    home = Deployment(tmp_path_factory.mktemp("federated") / "home", SHIFT)
    try:
        hub = home.run("hub", "deploy", "--seed-count", SEED_COUNT)
        assert hub.returncode == 0, hub.stderr[-2000:]
        yield home, home.run("spoke", "deploy", "fra", "--seed-count", SEED_COUNT, **FAST_BACKOFF)
    finally:
        home.run("nuke", "all", "--confirm")


@pytest.fixture
def deployment(deployed: tuple[Deployment, CompletedProcess[str]]) -> Deployment:
    return deployed[0]


def _url(code: str, service: str) -> str:
    return f"https://localhost:{catalog.port(code, service, shift=SHIFT)}"


def _tls(deployment: Deployment) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(deployment.home / "pki" / "bundle.pem"))


def _registry_record(deployment: Deployment, db_code: str, subject: str) -> tuple[str, str | None, str | None]:
    with instance_session(instance_database_url(deployment.home, db_code)) as session:
        record = FederationRegistryRepository().get_spoke(session, subject)
        assert record is not None, f"{subject} is absent from the registry of {db_code}"
        return record.status, record.trust_level, record.max_classification


def test_spoke_deploy_registers_fra_approved_at_the_hub_and_the_hub_approved_at_fra(deployed):
    deployment, first = deployed
    assert first.returncode == 0, first.stderr[-3000:]
    assert "FRA registered and approved at the hub (national, TOP_SECRET)" in first.stderr
    assert re.search(r"federation verify 16/16", first.stderr)
    assert _registry_record(deployment, "usa", "fra") == ("approved", "national", "TOP_SECRET")
    assert _registry_record(deployment, "fra", "usa")[0] == "approved"
    assert deployment.instance("fra")["state"] == "COMPLETE"


def test_federation_verify_json_passes_every_check_for_the_deployed_spoke(deployment: Deployment):
    answer = deployment.run("federation", "verify", "FRA", "--json", **FAST_BACKOFF)
    report = json.loads(answer.stdout)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert report["result"] == "pass" and report["passed"] == report["total"] == 16 and report["skipped"] == []
    status = deployment.run("federation", "status", "--json")
    [fra] = json.loads(status.stdout)["spokes"]
    assert fra["links"] == {"FRA->USA": "ACTIVE", "USA->FRA": "ACTIVE"} and fra["kas"]["status"] == "approved"


def test_fra_kas_and_the_hub_kas_are_in_each_others_registries(deployment: Deployment):
    keystore = LocalKeystore(deployment.home)
    credential = HubCredential("admin_key", keystore.get("usa/federation-admin-key") or "")
    with httpx.Client(verify=_tls(deployment)) as http:
        hub_listing = {s["kasId"]: s["status"] for s in HubApi(_url("usa", "api"), http).kas_registry(credential)}
    with instance_session(instance_database_url(deployment.home, "fra")) as session:
        fra_listing = {e.kas_id: (e.status, e.is_local) for e in session.query(KasRegistryEntry)}
    assert hub_listing == {"fra-kas": "approved", "usa-kas": "approved"}
    assert fra_listing == {"fra-kas": ("approved", True), "usa-kas": ("approved", False)}


def test_spoke_token_reads_its_own_registry_record_and_nothing_else(deployment: Deployment):
    token = LocalKeystore(deployment.home).get("fra/spoke-token")
    assert token, "the spoke token of the first registration is kept as fra/spoke-token"
    credential = HubCredential("spoke_token", token)
    with httpx.Client(verify=_tls(deployment)) as http:
        hub = HubApi(_url("usa", "api"), http)
        own = hub.spoke("fra", credential)
        with pytest.raises(RegistrationError) as refused:
            hub.spoke("deu", credential)
    assert own["status"] == "approved" and own["instanceCode"] == "FRA"
    assert refused.value.code == "fed_registration_failed" and refused.value.detail["status"] == 403


def test_fra_totp_user_signs_in_at_the_hub_through_fra_and_searches_fra_documents(deployment: Deployment):
    keystore = LocalKeystore(deployment.home)
    password, totp = keystore.get("_shared/test-user-password"), keystore.get("fra/totp/testuser-fra-3")
    assert password and totp
    callback = f"{_url('usa', 'web')}/auth/callback"
    verifier = pyotp.random_base32(64)
    params = {"client_id": catalog.client_id("usa"), "redirect_uri": callback, "response_type": "code",
              "scope": "openid", "state": "s", "nonce": "n", "kc_idp_hint": "fra-idp", "code_challenge_method": "S256",
              "code_challenge": create_s256_code_challenge(verifier)}  # fmt: skip
    with httpx.Client(verify=_tls(deployment)) as browser:
        start = browser.get(f"{_url('usa', 'idp')}/realms/{HUB_REALM}/protocol/openid-connect/auth", params=params)
        login = _follow(browser, start, callback)
        assert login.status_code == 200 and login.url.port == catalog.port("fra", "idp", shift=SHIFT)
        otp_page = _submit(browser, login, username="testuser-fra-3", password=password)
        assert 'name="otp"' in otp_page.text, otp_page.text[:300]
        done = _follow(browser, _submit(browser, otp_page, otp=pyotp.TOTP(totp).now()), callback)
        assert done.status_code == 302 and done.headers["location"].startswith(callback), done.text[:300]
        code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback, "code_verifier": verifier}
        tokens = browser.post(
            f"{_url('usa', 'idp')}/realms/{HUB_REALM}/protocol/openid-connect/token",
            data=form,
            auth=(catalog.client_id("usa"), keystore.get("usa/app-client-secret") or ""),
        ).json()
        search = browser.get(
            f"{_url('usa', 'api')}/api/resources/federated-search",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            params={"pageSize": "100"},
        )
    body = search.json()
    assert search.status_code == 200, search.text[:300]
    assert body["_clusters"]["instances"]["FRA"]["status"] == "ok"
    fra_items = [item["resourceId"] for item in body["items"] if item["instance"] == "FRA"]
    assert body["_clusters"]["instances"]["FRA"]["count"] > 0
    assert fra_items and all(resource.startswith("doc-FRA-seed-") for resource in fra_items)


def _follow(browser: httpx.Client, response: httpx.Response, until: str) -> httpx.Response:
    while response.status_code in (302, 303) and not response.headers["location"].startswith(until):
        response = browser.get(str(response.url.join(response.headers["location"])))
    return response


def _submit(browser: httpx.Client, page: httpx.Response, **fields: str) -> httpx.Response:
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser.post(str(page.url.join(action)), data={"csrf": csrf, **fields})


def test_redeploy_of_the_federated_spoke_changes_nothing_and_reports_no_error(deployment: Deployment):
    pids = {name: s["pid"] for name, s in deployment.instance("fra")["services"].items()}

    again = deployment.run("spoke", "deploy", "fra", "--seed-count", SEED_COUNT, **FAST_BACKOFF)

    assert again.returncode == 0, again.stderr[-3000:]
    assert " ! " not in again.stderr and "✗" not in again.stderr
    assert "links: 0 changes" in again.stderr and "fra-kas already at the hub" in again.stderr
    assert "0 changes applied" in again.stderr and "federation verify 16/16 (1 attempt(s))" in again.stderr
    events = deployment.events("fra", deployment.instance("fra")["last_run"]["run_id"])
    assert [e for e in events if e["event"] in ("warning", "retry", "phase_failed")] == []
    assert {name: s["pid"] for name, s in deployment.instance("fra")["services"].items()} == pids
    assert deployment.error_codes("fra") == []


def test_spoke_deploy_with_skip_federation_stays_standalone_and_unknown_to_the_hub(deployment: Deployment):
    answer = deployment.run("spoke", "deploy", "deu", "--skip-federation", "--seed-count", "0")

    assert answer.returncode == 0, answer.stderr[-3000:]
    assert "federation: standalone" in answer.stderr and "registration" not in answer.stderr
    listed = json.loads(deployment.run("federation", "list", "--json").stdout)["spokes"]
    assert [row["code"] for row in listed] == ["FRA"]
    assert not LocalKeystore(deployment.home).get("_federation/deu-usa")
