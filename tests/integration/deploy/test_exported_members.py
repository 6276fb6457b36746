"""The public surface of `dive.orchestration.deploy` is its `__all__` (STYLE §1)."""

from __future__ import annotations

import dive.orchestration.deploy


def test_every_exported_name_exists_and_the_list_has_no_duplicates():
    exported = dive.orchestration.deploy.__all__
    assert all(hasattr(dive.orchestration.deploy, name) for name in exported)
    assert len(set(exported)) == len(exported)


def test_hub_and_spoke_pipelines_declare_the_spec_phases_and_crash_points():
    hub = dive.orchestration.deploy.hub_phases()
    spoke = dive.orchestration.deploy.spoke_phases()
    assert [p.name for p in hub] == [
        "PREFLIGHT",
        "INITIALIZATION",
        "DATABASE",
        "SERVICES",
        "IDENTITY",
        "KAS",
        "SEEDING",
        "VERIFICATION",
    ]
    assert [p.name for p in spoke if p.optional] == ["SEEDING"] and not [p for p in spoke if p.optional and p.fatal]
    points = {f"spoke:{p.name}:{point}" for p in spoke for point in p.crash_points}
    assert points == {"spoke:DEPLOYMENT:after_services_started", "spoke:SEEDING:after_batch_3"}
