"""`dive spoke deploy|up|down|status|verify|seed CODE` (spec/orchestration.md §2.2, §4.4). A deploy federates the
spoke with the hub of this host (C3–C8 of CONFIGURATION) unless `--skip-federation` makes it standalone."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from dive import catalog
from dive.cli.clean_locks import clean_locks_command
from dive.cli.deploy_all import deploy_all_command
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
    spoke_code,
    with_json,
)
from dive.cli.instance_operations import instance_history, instance_phases, instance_restart
from dive.cli.remote_spoke import (
    HUB_CA_OPTION,
    HUB_URL_OPTION,
    TOKEN_FILE_OPTION,
    authorize_command,
    federate_command,
    remote_hub_environment,
    revoke_authorization_command,
)
from dive.orchestration.deploy import SPOKE_PHASE_TARGETS_S, instance_facts, run_instance_checks, spoke_phases
from dive.orchestration.invocation import options_of

__all__ = ["app"]

app = typer.Typer(help="Spokes (partner instances): deploy, start, stop, inspect.", no_args_is_help=True)
app.command("deploy-all")(deploy_all_command)
app.command("clean-locks")(clean_locks_command)
app.command("authorize")(authorize_command)
app.command("revoke-authorization")(revoke_authorization_command)
app.command("federate")(federate_command)

_CODE = typer.Argument(None, help="Instance code, e.g. FRA (default: --instance).")
_JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@app.command("deploy")
def deploy_command(
    context: typer.Context,
    code: str | None = _CODE,
    resume: bool = typer.Option(False, "--resume", help="Resume at the first phase without a valid checkpoint."),
    from_phase: str | None = typer.Option(None, "--from-phase", help="Run from this phase."),
    only_phase: str | None = typer.Option(None, "--only-phase", help="Run PREFLIGHT and this phase only."),
    skip_phase: list[str] = typer.Option([], "--skip-phase", help="Skip an optional phase (SEEDING)."),
    seed_count: int | None = typer.Option(None, "--seed-count", min=0, max=20000, help="Documents to seed."),
    with_test_users: bool = typer.Option(False, "--with-test-users", help="Test users in production too."),
    skip_federation: bool = typer.Option(False, "--skip-federation", help="Standalone: no hub contact."),
    hub_url: str | None = HUB_URL_OPTION,
    hub_ca: Path | None = HUB_CA_OPTION,
    enrolment_token_file: Path | None = TOKEN_FILE_OPTION,
    approval_timeout: float = typer.Option(
        0.0, "--approval-timeout", min=0, help="Poll a pending registration every 5 s for up to S seconds."
    ),
    force: bool = typer.Option(False, "--force", help="Bypass an open circuit breaker."),
    wait_lock: float = typer.Option(0.0, "--wait-lock", min=0, help="Wait up to S seconds for the lock."),
    dry: bool = typer.Option(False, "--dry-run", "-n", help="Plan only."),
    run_id: str | None = typer.Option(None, "--run-id", hidden=True),
) -> None:
    """Deploy a spoke: PREFLIGHT, INITIALIZATION, DEPLOYMENT, CONFIGURATION, SEEDING, VERIFICATION."""
    options = options_of(context)
    chosen = spoke_code(options, code)
    remote = remote_hub_environment(options, chosen, hub_url=hub_url, hub_ca=hub_ca,
                                    token_file=enrolment_token_file, skip_federation=skip_federation)  # fmt: skip
    os.environ.update(remote)  # a remote hub (Amendment A1): the run reads it from its environment
    flags = DeployFlags(
        resume=resume,
        from_phase=from_phase,
        only_phase=only_phase,
        skip=skip_phase,
        seed_count=seed_count,
        with_test_users=with_test_users,
        skip_federation=skip_federation,
        approval_timeout_s=approval_timeout or None,
        force=force,
        wait_lock_s=wait_lock,
        dry_run=dry,
        run_id=run_id,
    )
    result = run_deploy(
        options, pipeline="spoke", code=chosen, phases=spoke_phases(), targets=SPOKE_PHASE_TARGETS_S, flags=flags
    )
    finish_deploy(options, instance_facts(options.home, chosen, deploy_environment(options, flags)), result, "Spoke")


@app.command("up")
def up_command(context: typer.Context, code: str | None = _CODE) -> None:
    """Start the spoke's services health-gated (needs a prior deploy)."""
    options = options_of(context)
    chosen = spoke_code(options, code)
    instance_up(options, chosen)
    typer.echo(f"{chosen.upper()}: up")


@app.command("down")
def down_command(context: typer.Context, code: str | None = _CODE) -> None:
    """Stop the spoke's services."""
    options = options_of(context)
    chosen = spoke_code(options, code)
    instance_down(options, chosen)
    typer.echo(f"{chosen.upper()}: down")


@app.command("status")
def status_command(context: typer.Context, code: str | None = _CODE, as_json: bool = _JSON) -> None:
    """The detailed view of one spoke."""
    options = options_of(context)
    options = with_json(options, as_json)
    instance_status(options, spoke_code(options, code))


@app.command("verify")
def verify_command(context: typer.Context, code: str | None = _CODE, as_json: bool = _JSON) -> None:
    """The instance checks of a spoke (§4.5); exit 0 when all pass."""
    options = options_of(context)
    options = with_json(options, as_json)
    facts = instance_facts(options.home, spoke_code(options, code), deploy_environment(options))
    print_verify(options, facts, run_instance_checks(facts))


@app.command("seed")
def seed_command(
    context: typer.Context,
    code: str | None = _CODE,
    count: int | None = typer.Argument(None, min=0, max=20000, help="Documents (default: --seed-count)."),
    reset: bool = typer.Option(False, "--reset", help="Delete the seeded documents first."),
) -> None:
    """Seed a spoke up to N documents, as an operation run."""
    options = options_of(context)
    instance_seed(options, spoke_code(options, code), count, reset)


@app.command("restart")
def restart_command(
    context: typer.Context,
    code: str | None = _CODE,
    service: str | None = typer.Argument(None, help="One service: pdp, idp, kas, api or web (default: all)."),
) -> None:
    """Re-render the settings and restart the spoke's services (or one), health-gated; an operation run."""
    options = options_of(context)
    if service is None and code is not None and code.lower() in catalog.SERVICES:  # `--instance fra spoke restart api`
        code, service = None, code.lower()
    instance_restart(options, spoke_code(options, code), service)


@app.command("phases")
def phases_command(
    context: typer.Context,
    code: str | None = _CODE,
    timing: bool = typer.Option(False, "--timing", help="Add the durations of each phase's last 5 runs."),
    as_json: bool = _JSON,
) -> None:
    """Each phase: fatal, last status, duration, live checkpoint validity; and the resume point."""
    options = with_json(options_of(context), as_json)
    instance_phases(options, spoke_code(options, code), timing=timing)


@app.command("history")
def history_command(
    context: typer.Context,
    code: str | None = _CODE,
    count: int = typer.Argument(10, min=1, help="How many runs, newest first."),
    as_json: bool = _JSON,
) -> None:
    """The spoke's last N runs: id, command, kind, start, duration, outcome, final state, failed phase."""
    options = with_json(options_of(context), as_json)
    if code is not None and code.isdigit():  # `--instance fra spoke history 5`
        code, count = None, int(code)
    instance_history(options, spoke_code(options, code), count)
