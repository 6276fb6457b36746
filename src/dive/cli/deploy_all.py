"""`dive spoke deploy-all CODE… | --all` (spec/orchestration.md §2.2, §4.7): the command line of the parallel deploy.
The fan-out lives in `dive.orchestration.deploy_all`; this module turns flags into the children's options."""

from __future__ import annotations

import json
from dataclasses import replace

import typer
from rich.console import Console
from sqlalchemy import Engine

from dive.cli.instance_commands import DeployFlags, deploy_environment
from dive.orchestration.deploy import spoke_phases
from dive.orchestration.deploy.inventory import open_existing_orchestration_db
from dive.orchestration.deploy_all import (
    DeployAllReport,
    default_parallel,
    normalize_spoke_codes,
    plan_jobs,
    refuse_unfederatable,
    run_deploy_all,
    spokes_with_history,
    summary_document,
)
from dive.orchestration.deploy_all_view import FleetView, summary_table
from dive.orchestration.errors import OrchestrationError, PreconditionError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.orchestration.phases import select_phases
from dive.store import writer_session_factory

__all__ = ["deploy_all_command", "deploy_options", "global_options"]

MAX_PARALLEL = 32


def deploy_options(flags: DeployFlags) -> list[str]:
    """The `spoke deploy` options each child receives, rendered back from the parsed flags."""
    options: list[str] = []
    for enabled, flag in (
        (flags.resume, "--resume"),
        (flags.with_test_users, "--with-test-users"),
        (flags.skip_federation, "--skip-federation"),
        (flags.force, "--force"),
        (flags.dry_run, "--dry-run"),
    ):
        if enabled:
            options.append(flag)
    for value, flag in ((flags.from_phase, "--from-phase"), (flags.only_phase, "--only-phase")):
        if value:
            options += [flag, value]
    for phase in flags.skip:
        options += ["--skip-phase", phase]
    if flags.seed_count is not None:
        options += ["--seed-count", str(flags.seed_count)]
    if flags.approval_timeout_s:
        options += ["--approval-timeout", f"{flags.approval_timeout_s:g}"]
    if flags.wait_lock_s:
        options += ["--wait-lock", f"{flags.wait_lock_s:g}"]
    return options


def global_options(options: GlobalOptions) -> list[str]:
    """The global flags a child needs to act on the same deployment (`--yes --quiet` are always added)."""
    chosen = ["--home", str(options.home), "--env", options.env]
    return chosen if options.color else [*chosen, "--no-color"]


def deploy_all_command(
    context: typer.Context,
    codes: list[str] = typer.Argument(None, help="Spoke codes, e.g. FRA DEU (or --all)."),
    every: bool = typer.Option(False, "--all", help="Every spoke with deployment history on this host."),
    parallel: int | None = typer.Option(
        None, "--parallel", min=1, max=MAX_PARALLEL, help="Deploys at a time (default: min(4, CPU count))."
    ),
    resume: bool = typer.Option(False, "--resume", help="Resume each at its first phase without a valid checkpoint."),
    from_phase: str | None = typer.Option(None, "--from-phase", help="Run from this phase."),
    only_phase: str | None = typer.Option(None, "--only-phase", help="Run PREFLIGHT and this phase only."),
    skip_phase: list[str] = typer.Option([], "--skip-phase", help="Skip an optional phase (SEEDING)."),
    seed_count: int | None = typer.Option(None, "--seed-count", min=0, max=20000, help="Documents to seed each."),
    with_test_users: bool = typer.Option(False, "--with-test-users", help="Test users in production too."),
    skip_federation: bool = typer.Option(False, "--skip-federation", help="Standalone: no hub contact."),
    approval_timeout: float = typer.Option(
        0.0, "--approval-timeout", min=0, help="Poll a pending registration every 5 s for up to S seconds."
    ),
    force: bool = typer.Option(False, "--force", help="Bypass open circuit breakers."),
    wait_lock: float = typer.Option(0.0, "--wait-lock", min=0, help="Wait up to S seconds for each lock."),
    dry: bool = typer.Option(False, "--dry-run", "-n", help="Plan each deploy only."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON document on stdout."),
) -> None:
    """Deploy several spokes in parallel, each as its own `spoke deploy` run; exit 0 only if every one succeeded."""
    options = options_of(context)
    as_json = as_json or options.json
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
        dry_run=dry or options.dry_run,
    )
    try:
        select_phases(spoke_phases(), resume=resume, from_phase=from_phase, only_phase=only_phase, skip=skip_phase)
        chosen = _chosen_spokes(options, flags, codes or [], every)
    except OrchestrationError as exc:
        exit_with(exc, as_json=as_json)
    jobs = plan_jobs(chosen, options.home, deploy_options(flags), global_options=global_options(options))
    console = Console(stderr=True, no_color=not options.color, highlight=False, soft_wrap=True)
    workers = parallel or default_parallel()
    if not options.quiet:
        spokes = " ".join(code.upper() for code in chosen)
        console.print(f"DIVE spoke deploy-all · {spokes} · {workers} at a time · home {options.home}")
    with FleetView(console, quiet=options.quiet) as view:
        report = run_deploy_all(jobs, parallel=workers, environ=deploy_environment(options), display=view)
    _print_report(options, report, flags, as_json=as_json)
    raise typer.Exit(report.exit_code)


def _chosen_spokes(options: GlobalOptions, flags: DeployFlags, codes: list[str], every: bool) -> list[str]:
    """The named spokes or `--all`; refuses (exit 2) before any child starts, as a single deploy would."""
    if every and codes:
        raise UsageError("give spoke codes or --all, not both")
    if not every and not codes:
        raise UsageError("name the spokes (dive spoke deploy-all FRA DEU) or pass --all")
    engine = open_existing_orchestration_db(options.home, deploy_environment(options))
    try:
        chosen = _history(engine, options) if every else normalize_spoke_codes(codes)
        if not flags.skip_federation:
            _require_complete_hub(engine)
    finally:
        if engine is not None:
            engine.dispose()
    return chosen


def _history(engine: Engine | None, options: GlobalOptions) -> list[str]:
    spokes: list[str] = []
    if engine is not None:
        with writer_session_factory(engine)() as session:
            spokes = spokes_with_history(session)
    if not spokes:
        raise PreconditionError(
            f"--all: no spoke has deployment history under {options.home}; name them: dive spoke deploy-all FRA DEU"
        )
    return spokes


def _require_complete_hub(engine: Engine | None) -> None:
    if engine is None:
        raise PreconditionError(
            "the hub is not deployed: deploy it first (dive hub deploy) or pass --skip-federation",
            remediation="dive hub deploy, or add --skip-federation",
        )
    with writer_session_factory(engine)() as session:
        refuse_unfederatable(session)


def _print_report(options: GlobalOptions, report: DeployAllReport, flags: DeployFlags, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary_document(report)))
        return
    if flags.dry_run:
        for result in report.results:
            typer.echo(f"── {result.code.upper()} ──\n{result.output.rstrip()}")
    if not options.quiet:
        Console(no_color=not options.color, highlight=False, soft_wrap=True).print(summary_table(report))
    failed = [result for result in report.results if not result.succeeded]
    for result in failed:
        typer.echo(f"✗ {result.code.upper()}: {result.message}")
    done = len(report.results) - len(failed)
    typer.echo(f"{done}/{len(report.results)} spokes succeeded in {report.duration_s:.1f} s.")
    if failed and not report.cancelled:
        redo = [result.code for result in failed] + deploy_options(
            replace(flags, resume=not flags.only_phase, from_phase=None)
        )
        typer.echo(f"Fix the causes above, then: dive spoke deploy-all {' '.join(redo)}", err=True)
