"""Linking two real idps (USA, FRA) through their admin APIs, a brokered login over the link, and `dive federation
verify|link|unlink` against them (orchestration §8.3, §8.5, §8.6; CONSISTENCY #15)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive.federation import IdpAdminClient, LinkSide, link_partners, local_partner
from dive.federation.records import instance_session, link_rows
from dive.store import instance_database_url
from dive.store.models.registry import FederationLink

from .pair import ADMIN_PASSWORD, APP_REDIRECT, PASSWORD, Pair, create_realm, new_pair, register_approved

SECRET = "pair-secret-" + "p" * 30


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    pair = new_pair(tmp_path_factory.mktemp("federation") / "home")
    processes = {code: pair.start(code) for code in ("usa", "fra")}
    pair.processes = processes  # type: ignore[attr-defined]
    try:
        for code in ("usa", "fra"):
            create_realm(pair, code)
        register_approved(pair, "fra")
        yield pair
    finally:
        for process in pair.processes.values():  # type: ignore[attr-defined]
            process.stop()


def _sides(pair: Pair, http: httpx.Client) -> tuple[LinkSide, LinkSide]:
    environ = pair.environ
    return tuple(  # type: ignore[return-value]
        LinkSide(local_partner(c, environ), IdpAdminClient(local_partner(c, environ), ADMIN_PASSWORD, http))
        for c in ("usa", "fra")
    )


def _link(pair: Pair) -> list[str]:
    with httpx.Client(verify=pair.tls()) as http:
        usa, fra = _sides(pair, http)
        return link_partners(usa, fra, SECRET, http)


def test_linking_twice_changes_nothing_the_second_time_and_registers_one_exact_redirect_uri(pair: Pair):
    first, second = _link(pair), _link(pair)
    assert "fra-idp in dive-v3-broker-usa" in first and "usa-idp in dive-v3-broker-fra" in first
    assert "client dive-v3-broker-usa in dive-v3-broker-fra" in first
    assert second == []
    with httpx.Client(verify=pair.tls()) as http:
        usa, fra = _sides(pair, http)
        client = fra.admin.client("dive-v3-broker-usa")
        idp = usa.admin.identity_provider("fra-idp")
        mappers = {m["name"] for m in usa.admin.mappers("fra-idp")}
    assert client["redirectUris"] == [f"{pair.url('usa')}/realms/dive-v3-broker-usa/broker/fra-idp/endpoint"]
    assert client["directAccessGrantsEnabled"] is False and client["publicClient"] is False
    assert idp["trustEmail"] is False and idp["config"]["dive.expectedCountry"] == "FRA"
    assert idp["config"]["defaultScope"] == "openid profile email"
    assert {"uniqueID", "clearance", "countryOfAffiliation", "acpCOI", "user_acr", "user_amr", "username"} <= mappers


def test_a_fra_user_signs_in_at_the_hub_through_the_link(pair: Pair):
    _link(pair)
    verifier = "v" * 60
    params = {"client_id": "dive-v3-broker-usa", "redirect_uri": APP_REDIRECT, "response_type": "code",
              "scope": "openid", "state": "s", "nonce": "n", "kc_idp_hint": "fra-idp",
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}  # fmt: skip
    with httpx.Client(verify=pair.tls()) as browser:
        page = _follow(browser, browser.get(f"{pair.url('usa')}/realms/dive-v3-broker-usa/protocol/openid-connect/auth",
                                            params=params))  # fmt: skip
        assert page.status_code == 200 and page.url.port == urlsplit(pair.url("fra")).port
        action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {"csrf": csrf, "username": "testuser-fra-1", "password": PASSWORD}
        done = _follow(browser, browser.post(str(page.url.join(action)), data=form))
    assert done.status_code == 302 and done.headers["location"].startswith(APP_REDIRECT), done.text[:300]
    assert "code" in dict(parse_qsl(urlsplit(done.headers["location"]).query))


def _follow(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
    while response.status_code == 302 and not response.headers["location"].startswith(APP_REDIRECT):
        response = browser.get(str(response.url.join(response.headers["location"])))
    return response


def test_federation_verify_json_passes_and_records_both_links_active(pair: Pair):
    _link(pair)
    done = pair.dive("federation", "verify", "FRA", "--json", env={"DIVE_VERIFY_BACKOFF": "0.1,0.2"})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "dive.federation.verify/1" and report["result"] == "pass"
    assert report["passed"] == report["total"] == 13
    assert sorted(report["skipped"]) == ["fra@usa.token", "spoke.kas", "usa@fra.token"]
    with instance_session(instance_database_url(pair.home, "usa")) as session:
        statuses = {(r.source_code, r.target_code): r.status for r in link_rows(session)}
    assert statuses == {("fra", "usa"): "ACTIVE", ("usa", "fra"): "ACTIVE"}


def test_verify_retries_with_backoff_until_a_late_partner_idp_answers(pair: Pair):
    _link(pair)
    pair.processes["fra"].stop()  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "dive", "--home", str(pair.home), "federation", "verify", "FRA",
               "--attempts", "6", "--backoff", "1,2,4"]  # fmt: skip
    verify = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=pair.environ)
    restarted: dict[str, object] = {}

    def restart() -> None:
        time.sleep(3)
        restarted["fra"] = pair.start("fra")

    starter = threading.Thread(target=restart)
    starter.start()
    try:
        out, err = verify.communicate(timeout=100)
    finally:
        starter.join()
        pair.processes["fra"] = restarted["fra"]  # type: ignore[attr-defined]
    assert verify.returncode == 0, out + err
    assert "Verification attempt 1/6:" in out and "retrying in 1 s" in out
    assert re.search(r"Passed: 13/13 — federation USA ⇄ FRA is working \(([2-6]) attempts", out)


def test_unlink_makes_verify_fail_with_the_link_remediation_and_link_repairs_it(pair: Pair):
    _link(pair)
    refused = pair.dive("federation", "unlink", "FRA")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert pair.dive("--yes", "federation", "unlink", "FRA").returncode == 0
    failed = pair.dive("federation", "verify", "FRA", "--attempts", "2", "--backoff", "0.1")
    assert failed.returncode == 1
    assert "Passed: 7/13 — FAILED after 2 attempts" in failed.stdout
    assert "fra@usa.idp: identity provider fra-idp missing in realm dive-v3-broker-usa → dive federation link FRA" in (
        failed.stdout
    )
    with instance_session(instance_database_url(pair.home, "usa")) as session:
        row = session.query(FederationLink).filter_by(source_code="fra", target_code="usa").one()
        assert row.status == "FAILED" and row.consecutive_failures >= 1
    relinked = pair.dive("federation", "link", "FRA")
    assert relinked.returncode == 0, relinked.stderr
    assert pair.dive("federation", "verify", "FRA", "--backoff", "0.1").returncode == 0
