from __future__ import annotations

import dive.seed


def test_every_exported_name_exists_and_appears_once() -> None:
    assert all(hasattr(dive.seed, name) for name in dive.seed.__all__)
    assert len(set(dive.seed.__all__)) == len(dive.seed.__all__)


def test_the_accounts_function_is_not_collected_as_a_test() -> None:
    assert dive.seed.test_accounts.__test__ is False  # type: ignore[attr-defined]
