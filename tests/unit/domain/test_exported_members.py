"""The public surface of `dive.domain` is its `__all__` (STYLE §1)."""

from __future__ import annotations

import dive.domain


def test_domain_all_lists_exactly_the_public_names_it_exports():
    public = {name for name in vars(dive.domain) if not name.startswith("_") and name != "annotations"}
    modules = {
        "aal",
        "clearance",
        "coi",
        "countries",
        "equivalency",
        "inputs",
        "labels",
        "subject",
        "tenants",
        "timeparse",
    }
    assert set(dive.domain.__all__) == public - modules
    assert sorted(dive.domain.__all__) == sorted(set(dive.domain.__all__))
