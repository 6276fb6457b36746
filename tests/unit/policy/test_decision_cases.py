"""Table-driven decisions (spec/abac.md §3): every check, allow and deny, exact reasons, failed order."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dive.policy import CHECK_IDS
from dive.policy.engines import RegopyEngine

CASES = json.loads((Path(__file__).parent / "cases" / "decisions.json").read_text(encoding="utf-8"))


def _detail(details: dict[str, object], dotted: str) -> object:
    node: object = details
    for name in dotted.split("."):
        assert isinstance(node, dict)
        node = node[name]
    return node


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_decision_case_matches_the_spec(engine: RegopyEngine, make_input: Callable, case: dict[str, object]) -> None:
    expect = case["expect"]
    decision = engine.decide(make_input(case["patch"], case["remove"]))
    assert decision.failed == tuple(expect["failed"])
    assert decision.allow is expect["allow"]
    assert decision.checks == {name: name not in expect["failed"] for name in CHECK_IDS}
    assert set(decision.evaluation_details["messages"]) == set(expect["failed"])
    if "reason" in expect:
        assert decision.reason == expect["reason"]
    for name, message in expect.get("messages", {}).items():
        assert decision.evaluation_details["messages"][name] == message
    for dotted, value in expect.get("details", {}).items():
        assert _detail(decision.evaluation_details, dotted) == value
    if "obligations" in expect:
        assert list(decision.obligations) == expect["obligations"]
    if not decision.allow:
        assert decision.obligations == ()


def test_decision_reports_the_policy_version_and_the_engine_revision(
    engine: RegopyEngine, make_input: Callable
) -> None:
    details = engine.decide(make_input({}, [])).evaluation_details
    assert details["policy_version"] == "1.0.0"
    assert details["policy_revision"] == engine.revision()


def test_alias_package_and_allow_path_give_identical_values(engine: RegopyEngine, make_input: Callable) -> None:
    document = make_input({"subject": {"acpCOI": []}}, [])
    decision = engine.query("dive/authz/decision", document).value
    assert engine.query("dive/authorization/decision", document).value == decision
    assert engine.query("dive/authz/allow", document).value is False
    assert engine.query("dive/authorization/allow", document).value is False
    package = engine.query("dive/authz", document).value
    assert set(package) == {"allow", "reason", "obligations", "evaluation_details", "decision"}
    assert package["decision"] == decision


def test_unknown_data_path_is_undefined_not_an_error(engine: RegopyEngine) -> None:
    assert engine.query("dive/authz/nothing_here", {}).defined is False


def test_policy_document_is_data_with_version_and_revision(engine: RegopyEngine) -> None:
    assert engine.query("dive/policy").value == {"version": "1.0.0", "revision": engine.revision()}
