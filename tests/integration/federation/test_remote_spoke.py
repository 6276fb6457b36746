"""A spoke on another "host" (orchestration Amendment A1; CONSISTENCY #13): two deployment homes on one machine, each
with its own CA, supervisord and port shift. The hub operator issues a single-use enrolment token
(`dive spoke authorize`), the spoke deploys with `--hub-url --hub-ca --enrolment-token-file`, stays pending until
`dive federation approve` on the hub, then completes: hub CA trusted, registry, KAS registry and federation verify
from both sides. Refusals: no token, a token of another code, a spent token."""

from __future__ import annotations

import html
import json
import re
import secrets
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from deploy.cli import Deployment

from dive import catalog
from dive.federation.records import instance_session
from dive.secrets import LocalKeystore
from dive.store import FederationRegistryRepository, instance_database_url
from dive.store.models.kas import KasRegistryEntry
from harness import free_port_shift

SEED_COUNT = "5"
# A refused JWKS fetch is retried after 10 s; health gates get room on a shared, loaded machine.
FAST_BACKOFF = {"DIVE_VERIFY_BACKOFF": "2,4,8"}
PATIENT = {f"DIVE_HEALTH_TIMEOUT_{service.upper()}": "180" for service in catalog.SERVICES}
APPROVAL_WAIT_S = 240.0
pytestmark = pytest.mark.timeout(1800)  # the first test also deploys the hub and FRA twice


@dataclass(frozen=True)
class Hosts:
    hub: Deployment  # "host A"
    spoke: Deployment  # "host B"
    root: Path

    @property
    def hub_url(self) -> str:
        return f"https://localhost:{catalog.port('usa', 'api', shift=self.hub.shift)}"

    @property
    def hub_ca(self) -> str:
        return str(self.hub.home / "pki" / "bundle.pem")

    def remote_flags(self, token_file: Path | None = None) -> tuple[str, ...]:
        flags = ("--hub-url", self.hub_url, "--hub-ca", self.hub_ca)
        return flags if token_file is None else (*flags, "--enrolment-token-file", str(token_file))


@dataclass(frozen=True)
class Enrolment:
    hosts: Hosts
    fra_token: Path
    wrong_code: CompletedProcess[str]  # FRA deployed with DEU's token
    record_after_wrong_code: tuple[str, str | None] | None  # FRA's record at the hub right after that
    pending_seen: list[dict[str, object]]  # `federation list --pending` on the hub while FRA waited
    approve: CompletedProcess[str]
    deploy: CompletedProcess[str]  # FRA deployed with its own token, approved while it polled


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    root = tmp_path_factory.mktemp("remote-spoke")
    hub = Deployment(root / "host-a", free_port_shift(("usa", "fra")))
    try:
        deployed = hub.run("hub", "deploy", "--seed-count", SEED_COUNT, timeout=900, **PATIENT)
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        spoke = Deployment(root / "host-b", free_port_shift(("usa", "fra")))  # the hub's ports are taken now
        try:
            yield Hosts(hub=hub, spoke=spoke, root=root)
        finally:
            spoke.run("nuke", "all", "--confirm")
    finally:
        hub.run("nuke", "all", "--confirm")


@pytest.fixture(scope="module")
def enrolment(hosts: Hosts) -> Enrolment:
    fra_token, deu_token = hosts.root / "fra.token", hosts.root / "deu.token"
    for code, path in (("FRA", fra_token), ("DEU", deu_token)):
        issued = hosts.hub.run("spoke", "authorize", code, "--out", str(path))
        assert issued.returncode == 0, issued.stderr
    wrong_code = hosts.spoke.run(
        "spoke", "deploy", "fra", *hosts.remote_flags(deu_token), "--seed-count", SEED_COUNT, timeout=900, **PATIENT
    )
    record_after_wrong_code = _record(hosts.hub.home, "usa", "fra")
    command = [sys.executable, "-m", "dive", "spoke", "deploy", "fra", *hosts.remote_flags(fra_token),
               "--seed-count", SEED_COUNT, "--approval-timeout", str(APPROVAL_WAIT_S)]  # fmt: skip
    out, err = hosts.root / "deploy.out", hosts.root / "deploy.err"
    with out.open("w") as stdout, err.open("w") as stderr:  # files: a full pipe would stall the deploy
        environ = hosts.spoke.environ(**FAST_BACKOFF, **PATIENT)
        waiting = subprocess.Popen(
            command, env=environ, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, text=True
        )
        try:
            pending = _await_pending(hosts.hub, "FRA", waiting, err)
            approve = hosts.hub.run("federation", "approve", "FRA")
            waiting.wait(timeout=APPROVAL_WAIT_S + 300)
        finally:
            if waiting.poll() is None:
                waiting.kill()
                waiting.wait()
    deploy = CompletedProcess(command, waiting.returncode, out.read_text(), err.read_text())
    return Enrolment(hosts, fra_token, wrong_code, record_after_wrong_code, pending, approve, deploy)


def _await_pending(hub: Deployment, code: str, waiting: subprocess.Popen[str], log: Path) -> list[dict[str, object]]:
    """Poll the hub's registry until the spoke's registration shows up (the spawned deploy is still running)."""
    deadline = time.monotonic() + APPROVAL_WAIT_S
    while time.monotonic() < deadline and waiting.poll() is None:
        rows = json.loads(hub.run("federation", "list", "--pending", "--json").stdout)["spokes"]
        if any(row["code"] == code for row in rows):
            return rows
        time.sleep(2)
    raise AssertionError(f"{code} never appeared as pending at the hub: {log.read_text()[-3000:]}")


def _record(home: Path, db_code: str, subject: str) -> tuple[str, str | None] | None:
    with instance_session(instance_database_url(home, db_code)) as session:
        record = FederationRegistryRepository().get_spoke(session, subject)
        return None if record is None else (record.status, record.kind)


def test_authorize_writes_a_private_token_file_and_refuses_an_existing_file(hosts: Hosts):
    path = hosts.root / "nld.token"
    issued = hosts.hub.run("spoke", "authorize", "NLD", "--ttl", "1h", "--out", str(path))
    assert issued.returncode == 0, issued.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_text().strip()) >= 40
    assert path.read_text().strip() not in issued.stdout + issued.stderr
    again = hosts.hub.run("spoke", "authorize", "NLD", "--out", str(path))
    assert again.returncode == 2 and "exists" in again.stderr
    revoked = hosts.hub.run("spoke", "revoke-authorization", "NLD")
    assert revoked.returncode == 0 and "NLD: 1 unused enrolment token revoked" in revoked.stdout


def test_authorize_json_prints_the_token_once_with_its_expiry(hosts: Hosts):
    answer = hosts.hub.run("spoke", "authorize", "ITA", "--ttl", "30m", "--json")
    assert answer.returncode == 0, answer.stderr
    document = json.loads(answer.stdout)
    assert document["schema"] == "dive.spoke.authorization/1" and document["instance"] == "ITA"
    assert document["single_use"] is True and document["auto_approve"] is False and len(document["token"]) >= 40
    hosts.hub.run("spoke", "revoke-authorization", "ITA")


def test_authorize_on_a_home_without_a_hub_is_refused(hosts: Hosts, tmp_path: Path):
    elsewhere = Deployment(tmp_path / "no-hub", hosts.hub.shift)
    answer = elsewhere.run("spoke", "authorize", "FRA")
    assert answer.returncode == 2 and "the hub is not deployed" in answer.stderr


def test_hub_url_without_an_enrolment_token_file_is_refused_before_any_run(hosts: Hosts, tmp_path: Path):
    fresh = Deployment(tmp_path / "fresh-spoke", hosts.spoke.shift)
    answer = fresh.run("spoke", "deploy", "fra", *hosts.remote_flags())
    assert answer.returncode == 2 and "--enrolment-token-file" in answer.stderr
    assert not (fresh.home / "orchestration.db").exists()


def test_a_token_issued_for_another_code_is_refused_with_the_hubs_reason(enrolment: Enrolment):
    refused = enrolment.wrong_code
    assert refused.returncode == 1 and "valid for DEU only" in refused.stderr, refused.stderr[-3000:]
    assert "valid for DEU only" in refused.stderr and "FED_ENROLMENT_REFUSED" in enrolment.hosts.spoke.error_codes(
        "fra"
    )
    assert enrolment.record_after_wrong_code is None


def test_the_spoke_registers_pending_and_completes_after_approval_on_the_hub(enrolment: Enrolment):
    hosts = enrolment.hosts
    assert [row["code"] for row in enrolment.pending_seen] == ["FRA"]
    assert enrolment.approve.returncode == 0, enrolment.approve.stderr
    assert enrolment.deploy.returncode == 0, enrolment.deploy.stderr[-4000:]
    assert "FRA registered at https://localhost:" in enrolment.deploy.stderr
    assert hosts.spoke.instance("fra")["state"] == "COMPLETE"
    assert _record(hosts.hub.home, "usa", "fra") == ("approved", "remote")
    assert (
        _record(hosts.spoke.home, "fra", "usa") is not None and _record(hosts.spoke.home, "fra", "usa")[0] == "approved"
    )


def test_each_host_trusts_the_others_ca_and_no_admin_secret_crossed(enrolment: Enrolment):
    hub_home, spoke_home = enrolment.hosts.hub.home, enrolment.hosts.spoke.home
    assert (spoke_home / "pki" / "trusted" / "usa.pem").read_text() == (hub_home / "pki" / "ca.crt").read_text()
    assert (hub_home / "pki" / "trusted" / "fra.pem").read_text() == (spoke_home / "pki" / "ca.crt").read_text()
    spoke_keys, hub_keys = LocalKeystore(spoke_home), LocalKeystore(hub_home)
    assert spoke_keys.get("usa/federation-admin-key") is None and spoke_keys.get("usa/idp-admin-password") is None
    assert hub_keys.get("fra/idp-admin-password") is None
    assert spoke_keys.get("fra/spoke-token") and spoke_keys.get("_federation/fra-usa") == hub_keys.get(
        "_federation/fra-usa"
    )


def test_the_kas_registries_hold_both_kases_approved(enrolment: Enrolment):
    hosts = enrolment.hosts
    for home, code, expected in ((hosts.hub.home, "usa", False), (hosts.spoke.home, "fra", True)):
        with instance_session(instance_database_url(home, code)) as session:
            listing = {e.kas_id: (e.status, e.is_local) for e in session.query(KasRegistryEntry)}
        assert listing["fra-kas"][0] == listing["usa-kas"][0] == "approved"
        assert listing["fra-kas"][1] is expected


def test_federation_verify_on_the_hub_passes_what_it_can_check_across_both_cas(enrolment: Enrolment):
    answer = enrolment.hosts.hub.run("federation", "verify", "FRA", "--json", **FAST_BACKOFF)
    report = json.loads(answer.stdout)
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-2000:]
    outcomes = {check["id"]: check["status"] for check in report["checks"]}
    assert outcomes["usa@fra.token"] == "pass" and outcomes["fra@usa.idp"] == "pass"
    assert outcomes["fra@usa.client"] == "skip" and outcomes["registry"] == "pass"


def test_an_fra_user_signs_in_at_the_hub_through_fra_across_both_cas(enrolment: Enrolment):
    hosts = enrolment.hosts
    hub_keys, spoke_keys = LocalKeystore(hosts.hub.home), LocalKeystore(hosts.spoke.home)
    hub_idp = f"https://localhost:{catalog.port('usa', 'idp', shift=hosts.hub.shift)}"
    callback = f"https://localhost:{catalog.port('usa', 'web', shift=hosts.hub.shift)}/auth/callback"
    verifier = secrets.token_urlsafe(48)
    params = {"client_id": catalog.client_id("usa"), "redirect_uri": callback, "response_type": "code",
              "scope": "openid", "state": "s", "nonce": "n", "kc_idp_hint": "fra-idp", "code_challenge_method": "S256",
              "code_challenge": create_s256_code_challenge(verifier)}  # fmt: skip
    browser_trust = ssl.create_default_context(cafile=hosts.hub_ca)
    browser_trust.load_verify_locations(cafile=str(hosts.spoke.home / "pki" / "ca.crt"))
    realm = f"{hub_idp}/realms/{catalog.realm('usa')}/protocol/openid-connect"
    with httpx.Client(verify=browser_trust, timeout=30.0) as browser:
        login = _follow(browser, browser.get(f"{realm}/auth", params=params), callback)
        assert login.status_code == 200 and login.url.port == catalog.port("fra", "idp", shift=hosts.spoke.shift)
        done = _submit(browser, login, username="testuser-fra-1", password=spoke_keys.get("_shared/test-user-password"))
        if 'name="otp"' in done.text:
            done = _submit(browser, done, otp=pyotp.TOTP(spoke_keys.get("fra/totp/testuser-fra-1") or "").now())
        done = _follow(browser, done, callback)
        assert done.status_code == 302 and done.headers["location"].startswith(callback), done.text[:300]
        code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback, "code_verifier": verifier}
        client = (catalog.client_id("usa"), hub_keys.get("usa/app-client-secret") or "")
        tokens = browser.post(f"{realm}/token", data=form, auth=client).json()
        me = browser.get(f"{hosts.hub_url}/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text[:300]
    assert me.json()["countryOfAffiliation"] == "FRA"


def _follow(browser: httpx.Client, response: httpx.Response, until: str) -> httpx.Response:
    while response.status_code in (302, 303) and not response.headers["location"].startswith(until):
        response = browser.get(str(response.url.join(response.headers["location"])))
    return response


def _submit(browser: httpx.Client, page: httpx.Response, **fields: str | None) -> httpx.Response:
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser.post(str(page.url.join(action)), data={"csrf": csrf, **fields})


def test_reusing_the_spent_token_is_refused(enrolment: Enrolment):
    again = enrolment.hosts.spoke.run(
        "spoke", "deploy", "fra", *enrolment.hosts.remote_flags(enrolment.fra_token), "--seed-count", SEED_COUNT
    )
    assert again.returncode == 1, again.stderr[-2000:]
    assert "enrolment_token_used" in again.stderr


def test_spoke_federate_without_a_token_reuses_the_spoke_token(enrolment: Enrolment):
    answer = enrolment.hosts.spoke.run("spoke", "federate", "fra", *enrolment.hosts.remote_flags(), **FAST_BACKOFF)
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert "FRA registered earlier" in answer.stdout and "fra-kas already at the hub" in answer.stdout
