"""AuthZEN request parsing and answers (spec/abac.md §1.4), without a server."""

from __future__ import annotations

import pytest

from dive.policy.pdp import authzen

SUBJECT = {"type": "user", "id": "alice", "properties": {"clearance": "SECRET"}}
ACTION = {"name": "read"}
RESOURCE = {"type": "document", "id": "doc-1"}


def test_dive_input_uses_properties_and_fills_ids() -> None:
    evaluation = authzen.parse_evaluation({"subject": SUBJECT, "action": ACTION, "resource": RESOURCE})
    assert authzen.dive_input(evaluation) == {
        "subject": {"clearance": "SECRET", "uniqueID": "alice"},
        "resource": {"resourceId": "doc-1"},
        "action": {"operation": "read"},
        "context": {},
    }


def test_dive_input_keeps_a_uniqueid_given_in_properties() -> None:
    subject = {"type": "user", "id": "pid-1", "properties": {"uniqueID": "alice"}}
    evaluation = authzen.parse_evaluation({"subject": subject, "action": ACTION, "resource": RESOURCE})
    assert authzen.dive_input(evaluation)["subject"]["uniqueID"] == "alice"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": ACTION, "resource": RESOURCE}, "subject is required"),
        ({"subject": SUBJECT, "action": {"name": ""}, "resource": RESOURCE}, "action.name is required"),
        ({"subject": SUBJECT, "action": ACTION, "resource": {"type": "d", "properties": []}}, "resource.id"),
        ({"subject": {**SUBJECT, "properties": 3}, "action": ACTION, "resource": RESOURCE}, "subject.properties"),
        ({"subject": SUBJECT, "action": ACTION, "resource": RESOURCE, "context": "x"}, "context must be an object"),
    ],
)
def test_malformed_evaluation_names_the_problem(body: dict, message: str) -> None:
    with pytest.raises(authzen.AuthzenError, match=message):
        authzen.parse_evaluation(body)


def test_boxcar_items_replace_defaults_wholesale() -> None:
    items = authzen.parse_evaluations(
        {
            "subject": SUBJECT,
            "action": ACTION,
            "resource": RESOURCE,
            "evaluations": [{}, {"subject": {"type": "u", "id": "bob"}}],
        }
    )
    assert isinstance(items, tuple)
    assert items[0].subject == SUBJECT
    assert items[1].subject == {"type": "u", "id": "bob"}  # no field-level merge with the default's properties


def test_boxcar_keeps_invalid_items_in_their_slot() -> None:
    items = authzen.parse_evaluations(
        {"subject": SUBJECT, "action": ACTION, "evaluations": [{"resource": RESOURCE}, 5]}
    )
    assert isinstance(items[0], authzen.Evaluation)
    assert isinstance(items[1], authzen.AuthzenError)
    assert authzen.error_answer(items[1])["decision"] is False


def test_boxcar_without_items_is_a_single_evaluation() -> None:
    parsed = authzen.parse_evaluations({"subject": SUBJECT, "action": ACTION, "resource": RESOURCE, "evaluations": []})
    assert isinstance(parsed, authzen.Evaluation)


@pytest.mark.parametrize("options", [{"evaluations_semantic": "first_one"}, "execute_all"])
def test_unknown_semantic_is_refused(options: object) -> None:
    with pytest.raises(authzen.AuthzenError):
        authzen.semantic_of({"options": options})


def test_answers_from_each_policy_shape() -> None:
    decision = {"allow": True, "reason": "ok", "obligations": [], "evaluation_details": {"failed": []}}
    assert authzen.evaluation_answer(decision)["context"]["reason_user"] == {"en": "ok"}
    assert authzen.evaluation_answer(True) == {"decision": True}
    assert authzen.evaluation_answer({"decision": True, "context": {"why": 1}}) == {
        "decision": True,
        "context": {"why": 1},
    }
    assert authzen.evaluation_answer("yes") == {"decision": False}
    assert authzen.evaluation_answer({"decision": "true"}) == {"decision": False}


def test_semantics_stop_at_the_first_matching_answer() -> None:
    assert authzen.stop_after("deny_on_first_deny", {"decision": False})
    assert not authzen.stop_after("deny_on_first_deny", {"decision": True})
    assert authzen.stop_after("permit_on_first_permit", {"decision": True})
    assert not authzen.stop_after("execute_all", {"decision": False})
