from __future__ import annotations

import pytest

from dive.service.environment import env_flag, env_int, env_positive_float
from dive.service.errors import SettingsError


def test_unset_or_empty_variables_give_the_default() -> None:
    assert env_int({}, "DIVE_X", 7) == 7 and env_int({"DIVE_X": ""}, "DIVE_X", 7) == 7
    assert env_positive_float({}, "DIVE_Y", 0.5) == 0.5
    assert env_flag({}, "DIVE_Z") is False


@pytest.mark.parametrize("raw", ["-1", "0", "ten", "1.5"])
def test_a_bad_integer_names_the_variable_and_the_default(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"DIVE_X=.* is not an integer ≥ 1; unset it to use 7"):
        env_int({"DIVE_X": raw}, "DIVE_X", 7)


def test_minimum_zero_accepts_zero() -> None:
    assert env_int({"DIVE_X": "0"}, "DIVE_X", 7, minimum=0) == 0


@pytest.mark.parametrize("raw", ["0", "-2", "nan", "fast"])
def test_a_bad_positive_number_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="is not a positive number"):
        env_positive_float({"DIVE_Y": raw}, "DIVE_Y", 5.0)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("0", False), ("false", False)])
def test_flags_accept_four_spellings(raw: str, expected: bool) -> None:
    assert env_flag({"DIVE_Z": raw}, "DIVE_Z") is expected


def test_a_flag_that_is_neither_true_nor_false_is_refused() -> None:
    with pytest.raises(SettingsError, match="is not true or false"):
        env_flag({"DIVE_Z": "yes"}, "DIVE_Z")
