"""Enrolment tokens on the register routes of the real api (orchestration Amendment A1; CONSISTENCY #13): header
`X-DIVE-Enrolment-Token`, valid for its own code only, consumed by a successful `register`, which issues the spoke
token once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dive.api import issue_enrolment_token, revoke_enrolment_tokens
from dive.store import create_engine_for, instance_database_url, writer_session_factory
from dive.store.models import EnrolmentToken

from .conftest import ApiDeployment

HEADER = "X-DIVE-Enrolment-Token"
T = TypeVar("T")


def _in_store(deployment: ApiDeployment, work: Callable[[Session], T]) -> T:
    engine = create_engine_for(instance_database_url(deployment.home, "usa"))
    try:
        with writer_session_factory(engine).begin() as session:
            return work(session)
    finally:
        engine.dispose()


def _issue(deployment: ApiDeployment, code: str, *, auto_approve: bool = False) -> str:
    return _in_store(deployment, lambda s: issue_enrolment_token(s, code, ttl_s=3600, auto_approve=auto_approve))


def _consumed(deployment: ApiDeployment, code: str) -> list[bool]:
    query = select(EnrolmentToken).where(EnrolmentToken.code == code).order_by(EnrolmentToken.id)
    return _in_store(deployment, lambda s: [row.consumed_at is not None for row in s.scalars(query)])


def _registration(code: str) -> dict[str, object]:
    port = 4040 + ("ita", "nld", "pol", "esp", "bel", "nor", "dnk", "cze").index(code)
    return {
        "instanceCode": code.upper(),
        "apiUrl": f"https://localhost:{port}",
        "webUrl": f"https://localhost:{port - 1000}",
        "idpUrl": f"https://localhost:{port + 4000}",
        "issuer": f"https://localhost:{port + 4000}/realms/dive-v3-broker-{code}",
        "kasUrl": f"https://localhost:{port + 5000}/kas",
        "approve": True,
    }


def _post(deployment: ApiDeployment, path: str, body: dict[str, object], **headers: str) -> httpx.Response:
    with deployment.api.client(timeout=30) as client:
        return client.post(path, json=body, headers=headers)


def _kas_body(code: str) -> dict[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return {
        "kasId": f"{code}-kas",
        "instanceCode": code.upper(),
        "kasUrl": f"https://localhost:9999/{code}/kas",
        "publicKeys": [{"kid": f"{code}-k1", "alg": "rsa:2048", "publicKey": pem}],
    }


def test_an_enrolment_token_registers_its_code_once_and_the_spoke_token_serves_heartbeats(deployment: ApiDeployment):
    token = _issue(deployment, "ita")
    first = _post(deployment, "/api/federation/register", _registration("ita"), **{HEADER: token})
    again = _post(deployment, "/api/federation/register", _registration("ita"), **{HEADER: token})
    assert first.status_code == 201, first.text
    spoke, spoke_token = first.json()["spoke"], first.json()["spokeToken"]
    assert spoke["status"] == "pending" and spoke["instanceCode"] == "ITA"  # `approve: true` is not honoured
    assert again.status_code == 401 and again.json()["details"]["reason"] == "enrolment_token_used"
    assert _consumed(deployment, "ita") == [True]
    beat = _post(deployment, "/api/federation/spokes/ita/heartbeat", {}, **{"X-DIVE-Spoke-Token": spoke_token})
    assert beat.status_code == 200 and beat.json()["status"] == "pending"


def test_an_enrolment_token_of_another_code_answers_403_and_stays_unspent(deployment: ApiDeployment):
    token = _issue(deployment, "nld")
    wrong = _post(deployment, "/api/federation/register", _registration("pol"), **{HEADER: token})
    assert wrong.status_code == 403 and wrong.json()["error"] == "insufficient_role"
    assert "NLD only" in wrong.json()["message"]
    assert _consumed(deployment, "nld") == [False]
    right = _post(deployment, "/api/federation/register", _registration("nld"), **{HEADER: token})
    assert right.status_code == 201 and right.json()["spokeToken"]


def test_a_token_issued_with_auto_approve_registers_the_spoke_approved_and_trusted(deployment: ApiDeployment):
    token = _issue(deployment, "esp", auto_approve=True)
    created = _post(deployment, "/api/federation/register", _registration("esp"), **{HEADER: token})
    assert created.status_code == 201, created.text
    spoke = created.json()["spoke"]
    assert spoke["status"] == "approved" and spoke["approvedBy"] == "enrolment-token"
    admin = deployment.issuer.token(realm_access={"roles": ["dive-admin"]})
    with deployment.api.client(timeout=30) as client:
        issuers = client.get("/api/federation/trusted-issuers", headers={"Authorization": f"Bearer {admin}"}).json()
    assert _registration("esp")["issuer"] in [issuer["issuer"] for issuer in issuers]


def test_unknown_expired_and_revoked_enrolment_tokens_answer_401_with_the_reason(deployment: ApiDeployment):
    expired, revoked = _issue(deployment, "bel"), _issue(deployment, "nor")
    past = datetime.now(UTC) - timedelta(hours=2)
    backdate = update(EnrolmentToken).where(EnrolmentToken.code == "bel")
    _in_store(deployment, lambda s: s.execute(backdate.values(issued_at=past, expires_at=past + timedelta(hours=1))))
    _in_store(deployment, lambda s: revoke_enrolment_tokens(s, "nor"))
    answers = {
        reason: _post(deployment, "/api/federation/register", _registration(code), **{HEADER: token})
        for reason, code, token in [
            ("enrolment_token_unknown", "bel", "made-up-token"),
            ("enrolment_token_expired", "bel", expired),
            ("enrolment_token_revoked", "nor", revoked),
        ]
    }
    for reason, response in answers.items():
        assert response.status_code == 401 and response.json()["error"] == "invalid_token", response.text
        assert response.json()["details"]["reason"] == reason


def test_two_registrations_racing_on_one_token_let_exactly_one_succeed(deployment: ApiDeployment):
    token = _issue(deployment, "dnk")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_post, deployment, "/api/federation/register", _registration("dnk"), **{HEADER: token})
            for _ in range(2)
        ]
        statuses = sorted(future.result().status_code for future in futures)
    assert statuses == [201, 401]
    assert _consumed(deployment, "dnk") == [True]


def test_an_enrolment_token_registers_only_the_kas_of_its_own_code_and_is_not_spent_by_it(deployment: ApiDeployment):
    token = _issue(deployment, "pol")
    own = _post(deployment, "/api/kas/register", _kas_body("pol"), **{HEADER: token})
    other = _post(deployment, "/api/kas/register", _kas_body("bel"), **{HEADER: token})
    assert own.status_code == 201 and own.json()["kasId"] == "pol-kas" and own.json()["status"] == "pending"
    assert other.status_code == 403 and other.json()["error"] == "insufficient_role"
    assert _consumed(deployment, "pol") == [False]
    registered = _post(deployment, "/api/federation/register", _registration("pol"), **{HEADER: token})
    assert registered.status_code == 201 and _consumed(deployment, "pol") == [True]


def test_the_spoke_token_registers_the_kas_of_its_own_code_only(deployment: ApiDeployment):
    created = _post(deployment, "/api/federation/register", _registration("cze"), **{HEADER: _issue(deployment, "cze")})
    spoke_token = {"X-DIVE-Spoke-Token": created.json()["spokeToken"]}
    own = _post(deployment, "/api/kas/register", _kas_body("cze"), **spoke_token)
    other = _post(deployment, "/api/kas/register", _kas_body("ita"), **spoke_token)
    forged = _post(deployment, "/api/kas/register", _kas_body("cze"), **{"X-DIVE-Spoke-Token": "forged"})
    assert own.status_code == 201 and own.json()["kasId"] == "cze-kas" and own.json()["status"] == "pending"
    assert other.status_code == 403 and other.json()["error"] == "insufficient_role"
    assert forged.status_code == 403 and forged.json()["error"] == "insufficient_role"
