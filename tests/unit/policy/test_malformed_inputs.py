"""Any input yields a decision object that denies: wrong types, missing parts, deep nesting, huge arrays (§1.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dive.policy import CHECK_IDS
from dive.policy.engines import RegopyEngine


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    return value


GARBAGE = [
    {},
    {"subject": None, "action": 5, "resource": "x", "context": []},
    {"subject": {"authenticated": True, "uniqueID": 1, "clearance": ["SECRET"], "acpCOI": {"NATO": True}}},
    {"subject": {"authenticated": 1}, "resource": {"classification": None, "releasabilityTo": "USA", "ztdf": "yes"}},
    {"context": {"currentTime": 12, "acr": {"x": 1}, "amr": "pwd", "tenant": ["USA"]}},
    {"resource": {"creationDate": ["2024"], "COI": [1, None, {"a": 1}], "coiOperator": 3, "kasUrls": "u"}},
    {"subject": _nested(5000)},
    {"subject": {"uniqueID": 'a"b\\c\u0000\u0001\n', "organizationType": "g\no\u0007v", "issuer": "\ud7ff"}},
    {"resource": {"coiOperator": "a\nb\tc\u0001", "COI": ["X"]}, "subject": {"authenticated": True}},
    {"subject": {"acpCOI": ["c" * 16] * 65536}, "resource": {"releasabilityTo": ["USA"] * 65536, "COI": ["c" * 16]}},
    {"subject": {"authenticated": True}, "resource": {"creationDate": "9" * 1_000_000}},
    {"context": {"acr": 1e308, "amr": [float("nan")]}, "resource": {"classification": 2**70}},
]


@pytest.mark.parametrize("document", GARBAGE, ids=[f"garbage-{i}" for i in range(len(GARBAGE))])
def test_malformed_input_gives_a_denying_decision(engine: RegopyEngine, document: dict[str, object]) -> None:
    decision = engine.decide(document)
    assert decision.allow is False
    assert set(decision.checks) == set(CHECK_IDS)
    assert decision.reason.startswith("Access denied: ")
    assert decision.obligations == ()


def test_control_characters_in_echoed_fields_round_trip(engine: RegopyEngine, make_input: Callable) -> None:
    unique_id = "o\u00e9\n\u0001\t"
    decision = engine.decide(make_input({"subject": {"uniqueID": unique_id}, "resource": {"coiOperator": "a\nb"}}, []))
    assert decision.evaluation_details["subject"]["uniqueID"] == unique_id
    assert decision.reason == "Access denied: the resource uses an unknown COI operator 'A\nB' (expected ALL or ANY)."


def test_quotes_and_backslashes_reach_the_policy_as_fullwidth_forms(engine: RegopyEngine, make_input: Callable) -> None:
    decision = engine.decide(make_input({"subject": {"uniqueID": 'o"b\\xé', "clearance": 'se"cret\\u0001'}}, []))
    assert decision.evaluation_details["subject"]["uniqueID"] == "o\uff02b\uff3cxé"
    assert decision.reason == (
        "Access denied: your clearance 'se\uff02cret\uff3cu0001' is not a recognized clearance for DEU; "
        "ask your administrator to correct it."
    )


def test_a_non_object_input_through_the_data_path_is_evaluated_as_empty(engine: RegopyEngine) -> None:
    for document in (None, [], "input", 3):
        result = engine.query("dive/authz/decision", document)
        assert result.defined
        assert result.value["allow"] is False
        assert result.value["reason"] == "Access denied: the request is not authenticated."
