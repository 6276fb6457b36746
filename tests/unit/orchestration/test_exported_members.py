"""The public surface of `dive.orchestration` is its `__all__` (STYLE §1)."""

from __future__ import annotations

import dive.orchestration


def test_every_exported_name_exists_and_the_list_has_no_duplicates():
    assert all(hasattr(dive.orchestration, name) for name in dive.orchestration.__all__)
    assert len(set(dive.orchestration.__all__)) == len(dive.orchestration.__all__)


def test_every_exported_error_carries_a_snake_case_code_and_an_exit_code():
    errors = [getattr(dive.orchestration, name) for name in dive.orchestration.__all__ if name.endswith("Error")]

    assert all(error.code.islower() and error.exit_code in (1, 2, 130) for error in errors)
