"""`hub restart [SVC]` / `spoke restart CODE [SVC]` (spec/orchestration.md §2.2, §3.3): re-render the settings
(§9.4), then restart every service (stop web → api → kas, idp, pdp; start by tiers, health-gated) or only SVC."""

from __future__ import annotations

from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.setup import write_config
from dive.orchestration.errors import UsageError

__all__ = ["require_service", "restart_services"]


def require_service(facts: InstanceFacts, service: str | None) -> None:
    """A usage error (exit 2, before any run) for a service this build does not deploy."""
    if service is not None and service not in facts.services:
        raise UsageError(f"unknown service {service!r}; choose one of {', '.join(facts.services)}")


def restart_services(facts: InstanceFacts, service: str | None = None) -> str:
    """Restart the group, or one service of it; returns the summary line of the operation run."""
    write_config(facts)
    programs = facts.programs()
    supervisor = runtime.Supervisor(facts.home)
    supervisor.ensure_running()
    supervisor.apply_group(facts.code, programs)  # a changed rendering re-adds the group, stopped
    supervisor.stop_group(facts.code, [spec for spec in programs if service in (None, spec.service)])
    # Starting the whole group restarts only what is stopped: SVC, or everything a re-added group stopped.
    supervisor.start_group(facts.code, programs, facts.environ)
    return f"{service or ' '.join(facts.services)} restarted; {' '.join(facts.services)} healthy"
