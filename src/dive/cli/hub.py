"""`dive hub deploy|up|down|status|verify|seed` (spec/orchestration.md §2.2, §4.3)."""

from __future__ import annotations

import typer

from dive import catalog
from dive.cli.instance_commands import (
    DeployFlags,
    deploy_environment,
    finish_deploy,
    instance_down,
    instance_seed,
    instance_status,
    instance_up,
    print_verify,
    run_deploy,
    with_json,
)
from dive.cli.instance_operations import instance_history, instance_phases, instance_restart
from dive.orchestration.deploy import HUB_PHASE_TARGETS_S, hub_phases, instance_facts, run_instance_checks
from dive.orchestration.deploy.inventory import status_document
from dive.orchestration.invocation import options_of

__all__ = ["app"]

app = typer.Typer(help="The hub (USA): deploy, start, stop, inspect.", no_args_is_help=True)

_RESUME = typer.Option(False, "--resume", help="Resume at the first phase without a valid checkpoint.")
_FROM = typer.Option(None, "--from-phase", help="Run from this phase; earlier phases must be complete.")
_ONLY = typer.Option(None, "--only-phase", help="Run PREFLIGHT and this phase only.")
_SKIP = typer.Option([], "--skip-phase", help="Skip an optional phase (SEEDING).")
_SEED_COUNT = typer.Option(None, "--seed-count", min=0, max=20000, help="Documents to seed (default 5000 local).")
_TEST_USERS = typer.Option(False, "--with-test-users", help="Create the test users in production too.")
_FORCE = typer.Option(False, "--force", help="Bypass an open circuit breaker.")
_WAIT = typer.Option(0.0, "--wait-lock", min=0, help="Wait up to S seconds for the instance lock.")
_DRY = typer.Option(False, "--dry-run", "-n", help="Plan only: no lock, no writes, no processes.")
_JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@app.command("deploy")
def deploy_command(
    context: typer.Context,
    resume: bool = _RESUME,
    from_phase: str | None = _FROM,
    only_phase: str | None = _ONLY,
    skip_phase: list[str] = _SKIP,
    seed_count: int | None = _SEED_COUNT,
    with_test_users: bool = _TEST_USERS,
    force: bool = _FORCE,
    wait_lock: float = _WAIT,
    dry: bool = _DRY,
) -> None:
    """Deploy the hub: PREFLIGHT, INITIALIZATION, DATABASE, SERVICES, IDENTITY, KAS, SEEDING, VERIFICATION."""
    options = options_of(context)
    flags = DeployFlags(
        resume=resume,
        from_phase=from_phase,
        only_phase=only_phase,
        skip=skip_phase,
        seed_count=seed_count,
        with_test_users=with_test_users,
        force=force,
        wait_lock_s=wait_lock,
        dry_run=dry,
    )
    result = run_deploy(
        options, pipeline="hub", code=catalog.HUB, phases=hub_phases(), targets=HUB_PHASE_TARGETS_S, flags=flags
    )
    finish_deploy(options, instance_facts(options.home, catalog.HUB, deploy_environment(options, flags)), result, "Hub")


@app.command("verify")
def verify_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """The instance checks of the hub (§4.5); exit 0 when all pass."""
    options = options_of(context)
    options = with_json(options, as_json)
    facts = instance_facts(options.home, catalog.HUB, deploy_environment(options))
    print_verify(options, facts, run_instance_checks(facts))


@app.command("up")
def up_command(context: typer.Context) -> None:
    """Start the hub's services health-gated (needs a prior deploy)."""
    instance_up(options_of(context), catalog.HUB)
    typer.echo("USA: up")


@app.command("down")
def down_command(context: typer.Context) -> None:
    """Stop the hub's services (web → api → kas, idp, pdp)."""
    options = options_of(context)
    running = [
        r
        for r in status_document(options.home, deploy_environment(options))["instances"]
        if r["role"] == "spoke" and r["healthy"]
    ]
    if running:
        typer.echo(f"Warning: spokes still running: {', '.join(r['code'] for r in running)}", err=True)
    instance_down(options, catalog.HUB)
    typer.echo("USA: down")


@app.command("status")
def status_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """The detailed hub view."""
    instance_status(with_json(options_of(context), as_json), catalog.HUB)


@app.command("seed")
def seed_command(
    context: typer.Context,
    count: int | None = typer.Argument(None, min=0, max=20000, help="Documents (default: --seed-count)."),
    reset: bool = typer.Option(False, "--reset", help="Delete the seeded documents first."),
) -> None:
    """Seed the hub up to N documents, as an operation run."""
    instance_seed(options_of(context), catalog.HUB, count, reset)


@app.command("restart")
def restart_command(
    context: typer.Context,
    service: str | None = typer.Argument(None, help="One service: pdp, idp, kas, api or web (default: all)."),
) -> None:
    """Re-render the settings and restart the hub's services (or one), health-gated; an operation run."""
    instance_restart(options_of(context), catalog.HUB, service)


@app.command("phases")
def phases_command(
    context: typer.Context,
    timing: bool = typer.Option(False, "--timing", help="Add the durations of each phase's last 5 runs."),
    as_json: bool = _JSON,
) -> None:
    """Each phase: fatal, last status, duration, live checkpoint validity; and the resume point."""
    instance_phases(with_json(options_of(context), as_json), catalog.HUB, timing=timing)


@app.command("history")
def history_command(
    context: typer.Context,
    count: int = typer.Argument(10, min=1, help="How many runs, newest first."),
    as_json: bool = _JSON,
) -> None:
    """The hub's last N runs: id, command, kind, start, duration, outcome, final state, failed phase."""
    instance_history(with_json(options_of(context), as_json), catalog.HUB, count)
