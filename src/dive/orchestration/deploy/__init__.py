"""The hub and spoke deployment pipelines (spec/orchestration.md §4.3–§4.8): their phases, live checkpoints and the
instance checks of §4.5. (`dive.orchestration.phases` holds the pure phase model these are built on.)
"""

from __future__ import annotations

from dive.orchestration.deploy.checks import CheckResult, run_instance_checks
from dive.orchestration.deploy.instance import DEFAULT_SEED_COUNT, InstanceFacts, instance_facts
from dive.orchestration.deploy.pipelines import HUB_PHASE_TARGETS_S, SPOKE_PHASE_TARGETS_S, hub_phases, spoke_phases
from dive.orchestration.deploy.seeding import count_seeded
from dive.orchestration.deploy.services import probe_health, stop_services

__all__ = [
    "DEFAULT_SEED_COUNT",
    "HUB_PHASE_TARGETS_S",
    "SPOKE_PHASE_TARGETS_S",
    "CheckResult",
    "InstanceFacts",
    "count_seeded",
    "hub_phases",
    "instance_facts",
    "probe_health",
    "run_instance_checks",
    "spoke_phases",
    "stop_services",
]
