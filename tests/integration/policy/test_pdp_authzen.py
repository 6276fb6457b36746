"""AuthZEN 1.0 on real pdp processes: the dive mapping (abac §1.4), the interop Todo vectors and the certification
decisions of ../shared/interop/authzen/SCENARIOS.md, each scenario's policy loaded as a second package."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from conftest import INTEROP_DIR, authenticated_read, start_authzen_pdp
from harness import ServiceProcess

TODO_VECTORS = INTEROP_DIR / "authzen" / "todo-decisions-1_0-02.json"


@pytest.fixture(scope="module")
def todo_pdp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with start_authzen_pdp(tmp_path_factory, "todo") as service:
        yield service


@pytest.fixture(scope="module")
def certification_pdp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with start_authzen_pdp(tmp_path_factory, "certification") as service:
        yield service


def _todo_vectors(kind: str) -> list[dict]:
    if not TODO_VECTORS.is_file():
        pytest.skip(f"interop data not found at {TODO_VECTORS}")
    return json.loads(TODO_VECTORS.read_text())[kind]


def test_every_todo_single_evaluation_vector_passes(todo_pdp: ServiceProcess) -> None:
    vectors = _todo_vectors("evaluation")
    assert len(vectors) == 40
    with todo_pdp.client() as client:
        answers = [client.post("/access/v1/evaluation", json=v["request"]).json() for v in vectors]
    mismatches = [
        (v["request"], a) for v, a in zip(vectors, answers, strict=True) if a.get("decision") != v["expected"]
    ]
    assert mismatches == []


def test_every_todo_batch_vector_matches_exactly(todo_pdp: ServiceProcess) -> None:
    vectors = _todo_vectors("evaluations")
    assert len(vectors) == 3
    with todo_pdp.client() as client:
        for vector in vectors:
            answer = client.post("/access/v1/evaluations", json=vector["request"]).json()
            assert answer["evaluations"] == vector["expected"]


CERTIFICATION_DECISIONS = [
    ({"type": "user", "id": "alice"}, {"name": "read"}, {"type": "record", "id": "record-1"}, True),
    ({"type": "user", "id": "alice"}, {"name": "write"}, {"type": "record", "id": "record-1"}, True),
    ({"type": "user", "id": "bob"}, {"name": "read"}, {"type": "record", "id": "record-1"}, True),
    ({"type": "user", "id": "bob"}, {"name": "write"}, {"type": "record", "id": "record-1"}, False),
    (
        {"type": "user", "id": "alice"},
        {"name": "write"},
        {"type": "record", "id": "record-2", "properties": {"status": "archived"}},
        False,
    ),
    (
        {"type": "user", "id": "bob", "properties": {"role": "admin"}},
        {"name": "write"},
        {"type": "record", "id": "record-2", "properties": {"status": "archived"}},
        True,
    ),
    (
        {"type": "user", "id": "alice"},
        {"name": "delete", "properties": {"soft": True}},
        {"type": "record", "id": "record-1"},
        True,
    ),
    (
        {"type": "user", "id": "alice"},
        {"name": "delete", "properties": {"soft": False}},
        {"type": "record", "id": "record-1"},
        False,
    ),
]


@pytest.mark.parametrize(("subject", "action", "resource", "expected"), CERTIFICATION_DECISIONS)
@pytest.mark.parametrize("with_context", [False, True])
def test_certification_decision_comes_out_exactly(
    certification_pdp: ServiceProcess, subject: dict, action: dict, resource: dict, expected: bool, with_context: bool
) -> None:
    request = {"subject": subject, "action": action, "resource": resource}
    if with_context:
        request["context"] = {"time": "2026-11-28T09:00:00Z"}
    with certification_pdp.client() as client:
        response = client.post("/access/v1/evaluation", json=request, headers={"X-Request-ID": "authzen-cert-0001"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"] == "authzen-cert-0001"
    assert response.json()["decision"] is expected


ALICE = {"type": "user", "id": "alice"}
BOB_ADMIN = {"type": "user", "id": "bob", "properties": {"role": "admin"}}
RECORD_1 = {"type": "record", "id": "record-1", "properties": {"status": "active"}}
RECORD_2 = {"type": "record", "id": "record-2", "properties": {"status": "archived"}}


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        (
            {
                "subject": {"type": "user", "id": "bob"},
                "resource": RECORD_1,
                "evaluations": [{"action": {"name": "read"}}, {"action": {"name": "write"}}],
            },
            [True, False],
        ),
        (
            {
                "subject": ALICE,
                "action": {"name": "write"},
                "evaluations": [{"resource": RECORD_1}, {"resource": RECORD_2}],
            },
            [True, False],
        ),
        (
            {
                "action": {"name": "write"},
                "resource": RECORD_2,
                "evaluations": [{"subject": ALICE}, {"subject": BOB_ADMIN}],
            },
            [False, True],
        ),
        (
            {
                "evaluations": [
                    {"subject": ALICE, "action": {"name": "read"}, "resource": RECORD_1},
                    {"subject": {"type": "user", "id": "bob"}, "action": {"name": "write"}, "resource": RECORD_1},
                ]
            },
            [True, False],
        ),
        (
            {
                "subject": ALICE,
                "action": {"name": "write"},
                "resource": RECORD_1,
                "evaluations": [{}, {"resource": RECORD_2}],
            },
            [True, False],
        ),
    ],
)
def test_certification_batch_inherits_top_level_objects_wholesale(
    certification_pdp: ServiceProcess, request_body: dict, expected: list[bool]
) -> None:
    with certification_pdp.client() as client:
        answer = client.post("/access/v1/evaluations", json=request_body).json()
    assert [item["decision"] for item in answer["evaluations"]] == expected


def test_batch_without_evaluations_is_answered_like_a_single_evaluation(certification_pdp: ServiceProcess) -> None:
    with certification_pdp.client() as client:
        answer = client.post(
            "/access/v1/evaluations", json={"subject": ALICE, "action": {"name": "read"}, "resource": RECORD_1}
        ).json()
    assert answer == {"decision": True}


def test_invalid_batch_item_denies_that_item_and_answers_the_rest(certification_pdp: ServiceProcess) -> None:
    body = {
        "subject": ALICE,
        "action": {"name": "read"},
        "evaluations": [{"resource": RECORD_1}, {"resource": {"id": "x"}}],
    }
    with certification_pdp.client() as client:
        response = client.post("/access/v1/evaluations", json=body)
    assert response.status_code == 200
    decisions = [item["decision"] for item in response.json()["evaluations"]]
    assert decisions == [True, False]


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [("execute_all", [True, False, True]), ("deny_on_first_deny", [True, False]), ("permit_on_first_permit", [True])],
)
def test_batch_semantics_stop_where_the_option_says(
    certification_pdp: ServiceProcess, semantic: str, expected: list[bool]
) -> None:
    body = {
        "subject": ALICE,
        "resource": RECORD_1,
        "options": {"evaluations_semantic": semantic},
        "evaluations": [{"action": {"name": "read"}}, {"action": {"name": "delete"}}, {"action": {"name": "write"}}],
    }
    with certification_pdp.client() as client:
        answer = client.post("/access/v1/evaluations", json=body).json()
    assert [item["decision"] for item in answer["evaluations"]] == expected


@pytest.mark.parametrize(
    "body",
    [
        {"action": {"name": "read"}, "resource": RECORD_1},
        {"subject": ALICE, "resource": RECORD_1},
        {"subject": ALICE, "action": {"name": "read"}},
        {"subject": {"id": "alice"}, "action": {"name": "read"}, "resource": RECORD_1},
        {"subject": {"type": "user"}, "action": {"name": "read"}, "resource": RECORD_1},
        {"subject": ALICE, "action": {}, "resource": RECORD_1},
        {"subject": ALICE, "action": {"name": 7}, "resource": RECORD_1},
        {"subject": ALICE, "action": {"name": "read"}, "resource": {"type": "record"}},
        {"subject": "alice", "action": {"name": "read"}, "resource": RECORD_1},
        [],
    ],
)
def test_malformed_authzen_request_answers_400(certification_pdp: ServiceProcess, body: object) -> None:
    with certification_pdp.client() as client:
        response = client.post("/access/v1/evaluation", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"", "application/json"), (b"{nope", "application/json"), (b'{"subject": {}}', "text/plain")],
)
def test_empty_malformed_or_non_json_body_answers_400(
    certification_pdp: ServiceProcess, content: bytes, content_type: str
) -> None:
    with certification_pdp.client() as client:
        response = client.post("/access/v1/evaluation", content=content, headers={"content-type": content_type})
    assert response.status_code == 400


def test_unknown_fields_are_ignored(certification_pdp: ServiceProcess) -> None:
    body = {"subject": {**ALICE, "extra": 1}, "action": {"name": "read"}, "resource": RECORD_1, "surprise": True}
    with certification_pdp.client() as client:
        assert client.post("/access/v1/evaluation", json=body).json()["decision"] is True


def test_well_known_configuration_names_the_endpoints(certification_pdp: ServiceProcess) -> None:
    with certification_pdp.client() as client:
        config = client.get("/.well-known/authzen-configuration").json()
    assert config["policy_decision_point"].startswith("https://")
    assert config["access_evaluation_endpoint"] == config["policy_decision_point"] + "/access/v1/evaluation"
    assert config["access_evaluations_endpoint"] == config["policy_decision_point"] + "/access/v1/evaluations"


def test_dive_mapping_turns_properties_into_the_policy_input(pdp: ServiceProcess) -> None:
    input = authenticated_read()
    request = {
        "subject": {"type": "user", "id": "testuser-usa-4", "properties": input["subject"]},
        "action": {"name": "read"},
        "resource": {"type": "document", "id": "doc-USA-seed-00001", "properties": input["resource"]},
        "context": input["context"],
    }
    with pdp.client() as client:
        answer = client.post("/access/v1/evaluation", json=request).json()
    assert answer["decision"] is True
    assert answer["context"]["reason_user"] == {"en": "Access granted: all authorization checks passed."}
    assert answer["context"]["obligations"][0]["type"] == "kas"


def test_dive_mapping_denies_an_empty_subject_with_the_policy_reason(pdp: ServiceProcess) -> None:
    request = {"subject": {"type": "user", "id": "x"}, "action": {"name": "read"}, "resource": {"type": "d", "id": "y"}}
    with pdp.client() as client:
        answer = client.post("/access/v1/evaluation", json=request).json()
    assert answer["decision"] is False
    assert answer["context"]["reason_admin"]["en"] == "Access denied: the request is not authenticated."
