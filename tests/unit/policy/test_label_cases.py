"""data.dive.labels.check (spec/abac.md §3.12): resource problems, marking consistency and V1-V7 in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dive.policy.engines import RegopyEngine

CASES = json.loads((Path(__file__).parent / "cases" / "labels.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_label_check_case_matches_the_spec(engine: RegopyEngine, case: dict[str, object]) -> None:
    check = engine.check_label(case["resource"], strict=case["strict"])
    assert check.violations == tuple(case["violations"])
    assert check.codes == tuple(case["codes"])
    assert check.valid is case["valid"]


def test_label_check_through_the_data_path_treats_a_non_boolean_strict_as_false(engine: RegopyEngine) -> None:
    resource = {"classification": "SECRET", "releasabilityTo": ["JPN"], "COI": ["Omega"], "caveats": []}
    lenient = engine.query("dive/labels/check", {"resource": resource, "strict": "true"}).value
    strict = engine.query("dive/labels/check", {"resource": resource, "strict": True}).value
    assert lenient["valid"] is True
    assert strict["violations"] == ["unknown communities Omega"]
