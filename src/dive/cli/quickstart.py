"""`dive quickstart`: the README's one command. Deploys the hub, then FRA and DEU, on the embedded defaults, and
prints the URLs and where the test users' credentials are. Each spoke deploy federates it with the hub (§4.4 C3–C8)."""

from __future__ import annotations

import typer

from dive import catalog
from dive.cli.instance_commands import DeployFlags, deploy_environment, print_urls, run_deploy
from dive.orchestration.deploy import (
    HUB_PHASE_TARGETS_S,
    SPOKE_PHASE_TARGETS_S,
    hub_phases,
    instance_facts,
    spoke_phases,
)
from dive.orchestration.invocation import options_of

__all__ = ["quickstart_command"]

QUICKSTART_SPOKES = ("fra", "deu")


def quickstart_command(
    context: typer.Context,
    seed_count: int | None = typer.Option(None, "--seed-count", min=0, max=20000, help="Documents per instance."),
    dry: bool = typer.Option(False, "--dry-run", "-n", help="Plan only: no lock, no writes, no processes."),
) -> None:
    """Deploy the hub, then FRA and DEU, and print how to reach them."""
    options = options_of(context)
    planning = dry or options.dry_run
    flags = DeployFlags(seed_count=seed_count, dry_run=dry, hub_planned=planning)
    plan = [(catalog.HUB, "hub", hub_phases(), HUB_PHASE_TARGETS_S)]
    plan += [(code, "spoke", spoke_phases(), SPOKE_PHASE_TARGETS_S) for code in QUICKSTART_SPOKES]
    for code, pipeline, phases, targets in plan:
        result = run_deploy(options, pipeline=pipeline, code=code, phases=phases, targets=targets, flags=flags)
        if result is not None and result.exit_code != 0:
            typer.echo(result.message, err=True)
            raise typer.Exit(result.exit_code)
    if planning:
        return
    typer.echo("DIVE is running: USA (hub), FRA and DEU, federated: links USA ⇄ FRA and USA ⇄ DEU verified.")
    for code, *_rest in plan:
        facts = instance_facts(options.home, code, deploy_environment(options, flags))
        typer.echo(f"{facts.display}:")
        print_urls(facts)
    typer.echo(
        "Status: dive status · Federation: dive federation status · Checks: dive federation verify FRA · "
        "Stop: dive down · Remove: dive nuke all --confirm"
    )
