from __future__ import annotations

from dive.policy.pdp.limits import MAX_ARRAY_ITEMS, MAX_STRING_CHARS, input_problem


def test_realistic_input_is_within_limits() -> None:
    assert input_problem({"resource": {"releasabilityTo": ["USA"] * 249}, "subject": {"uniqueID": "a" * 100}}) is None


def test_long_list_is_named_with_its_path() -> None:
    problem = input_problem({"resource": {"COI": ["x"] * (MAX_ARRAY_ITEMS + 1)}})
    assert problem == f"input.resource.COI is a list of {MAX_ARRAY_ITEMS + 1} items; the limit is {MAX_ARRAY_ITEMS}"


def test_long_string_is_named_with_its_path() -> None:
    problem = input_problem({"subject": {"acpCOI": ["ok", "y" * (MAX_STRING_CHARS + 1)]}})
    assert problem is not None and problem.startswith("input.subject.acpCOI[1] is a string")


def test_too_many_values_overall_is_refused() -> None:
    wide = {f"k{i}": [1] * 100 for i in range(300)}
    assert input_problem(wide) == "the input holds more than 20000 values"
