"""The pdp's OPA-compatible data API over HTTPS (spec/abac.md §1.4), decision logs, and live reloads."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from conftest import USA_ISSUER, authenticated_read
from dive.store.engine import create_engine_for, session_factory, writer_session_factory
from dive.store.models.audit import DecisionLogEntry
from dive.store.registry import FederationRegistryRepository
from harness import ServiceProcess

DEADLINE_S = 10.0


def _decide(pdp: ServiceProcess, input: object, path: str = "dive/authz/decision") -> dict:
    with pdp.client() as client:
        response = client.post(f"/v1/data/{path}", json={"input": input})
    assert response.status_code == 200, response.text
    return response.json()


def test_decision_path_allows_a_complete_secret_read_and_returns_a_decision_id(pdp: ServiceProcess) -> None:
    body = _decide(pdp, authenticated_read())
    assert body["result"]["allow"] is True
    assert body["result"]["reason"] == "Access granted: all authorization checks passed."
    assert body["result"]["obligations"][0]["kasUrls"] == ["https://localhost:9000/kas"]
    assert len(body["decision_id"]) == 32


def test_decision_path_denies_with_reason_and_failed_checks(pdp: ServiceProcess) -> None:
    body = _decide(pdp, authenticated_read(releasabilityTo=["DEU"]))
    result = body["result"]
    assert result["allow"] is False
    assert result["evaluation_details"]["failed"] == ["country_releasable"]
    assert result["reason"] == ("Access denied: the resource is not releasable to USA; it is releasable to DEU.")


def test_allow_path_returns_a_bare_boolean(pdp: ServiceProcess) -> None:
    assert _decide(pdp, authenticated_read(), "dive/authz/allow")["result"] is True
    assert _decide(pdp, {}, "dive/authz/allow")["result"] is False


def test_upstream_alias_package_gives_identical_values(pdp: ServiceProcess) -> None:
    input = authenticated_read(classification="TOP_SECRET")
    native = _decide(pdp, input)["result"]
    alias = _decide(pdp, input, "dive/authorization/decision")["result"]
    assert alias == native


def test_missing_input_is_evaluated_as_empty_and_denies(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        response = client.post("/v1/data/dive/authz/decision", json={})
    assert response.json()["result"]["allow"] is False
    assert response.json()["result"]["evaluation_details"]["failed"][0] == "authenticated"


def test_label_check_path_reports_violations(pdp: ServiceProcess) -> None:
    resource = {"classification": "SECRET", "releasabilityTo": ["USA", "GBR"], "COI": ["US-ONLY", "FVEY"]}
    result = _decide(pdp, {"resource": resource, "strict": True}, "dive/labels/check")["result"]
    assert result["valid"] is False
    assert any(v.startswith("US-ONLY cannot be combined with other communities") for v in result["violations"])


def test_policy_document_names_version_and_revision(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        policy = client.get("/v1/data/dive/policy").json()["result"]
        health = client.get("/health").json()
    assert policy["version"] == "1.0.0"
    assert policy["revision"] == health["policy"]["revision"]


def test_undefined_path_answers_200_without_result(pdp: ServiceProcess) -> None:
    body = _decide(pdp, {}, "nothing/here")
    assert "result" not in body and "decision_id" in body


def test_metrics_query_parameter_adds_evaluation_time(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        body = client.post("/v1/data/dive/authz/allow?metrics=true", json={"input": {}}).json()
    assert body["metrics"]["timer_rego_query_eval_ns"] > 0


def test_invalid_json_body_answers_400_invalid_parameter(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        response = client.post("/v1/data/dive/authz/decision", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


def test_data_path_with_foreign_characters_answers_400(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        response = client.post("/v1/data/dive/authz/decision%22%5D", json={"input": {}})
    assert response.status_code == 400


def test_every_decision_is_written_to_the_decision_log(pdp: ServiceProcess) -> None:
    with pdp.client() as client:
        decision_id = client.post(
            "/v1/data/dive/authz/decision",
            json={"input": authenticated_read()},
            headers={"X-Request-ID": "it-decision-log-0001"},
        ).json()["decision_id"]
    database = create_engine_for(f"sqlite:///{pdp.home / 'instances' / 'usa' / 'data' / 'instance.db'}")
    try:
        entry = _poll(lambda: _decision_entry(database, decision_id))
    finally:
        database.dispose()
    assert entry.request_id == "it-decision-log-0001"
    assert (entry.service, entry.instance, entry.allow, entry.reason_code) == ("pdp", "USA", True, "ok")
    assert entry.subject == "testuser-usa-4"


def test_registry_change_reloads_policy_data_without_restart(pdp: ServiceProcess) -> None:
    """Tenant settings are registry data (CONSISTENCY #8): aal_top_secret = 3 makes an AAL2 TOP_SECRET read fail."""
    top_secret = authenticated_read(classification="TOP_SECRET")
    top_secret["subject"]["clearance"] = "TOP SECRET"
    before = _decide(pdp, top_secret)["result"]
    assert before["allow"] is True
    _write_tenant_settings(pdp.home, {"aal_top_secret": 3})
    after = _poll(lambda: _denied(pdp, top_secret))
    assert after["evaluation_details"]["failed"] == ["aal_sufficient"]
    assert after["evaluation_details"]["policy_revision"] != before["evaluation_details"]["policy_revision"]
    _write_tenant_settings(pdp.home, {})
    _poll(lambda: None if _denied(pdp, top_secret) else True)


def test_issuer_of_the_own_realm_is_trusted_and_others_are_not(pdp: ServiceProcess) -> None:
    input = authenticated_read()
    input["subject"]["issuer"] = USA_ISSUER.replace("usa", "fra")
    result = _decide(pdp, input)["result"]
    assert result["evaluation_details"]["failed"] == ["federation_trusted"]


def _denied(pdp: ServiceProcess, input: dict) -> dict | None:
    result = _decide(pdp, input)["result"]
    return None if result["allow"] else result


def _write_tenant_settings(home: Path, settings: dict) -> None:
    database = create_engine_for(f"sqlite:///{home / 'instances' / 'usa' / 'data' / 'instance.db'}")
    try:
        with writer_session_factory(database).begin() as session:
            FederationRegistryRepository().set_tenant_settings(session, "usa", settings)
    finally:
        database.dispose()


def _decision_entry(database, decision_id: str) -> DecisionLogEntry | None:
    with session_factory(database)() as session:
        return session.scalar(select(DecisionLogEntry).where(DecisionLogEntry.decision_id == decision_id))


def _poll(probe):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {DEADLINE_S} s")
