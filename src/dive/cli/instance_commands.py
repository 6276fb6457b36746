"""What the hub and spoke commands share (spec/orchestration.md §2.2, §4): flags → `RunRequest`, a run with its
progress display, the summary with URLs and credentials, operation runs (up, down, seed), verify and status views."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import typer
from rich.console import Console
from rich.table import Table

from dive import catalog
from dive.orchestration.database import open_orchestration_db
from dive.orchestration.deploy import (
    CheckResult,
    InstanceFacts,
    hub_phases,
    instance_facts,
    spoke_phases,
    stop_services,
)
from dive.orchestration.deploy.inventory import status_document
from dive.orchestration.deploy.seeding import delete_seeded
from dive.orchestration.deploy.services import run_services
from dive.orchestration.errors import OrchestrationError, PreconditionError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with
from dive.orchestration.phases import Check, Phase, Selection, select_phases
from dive.orchestration.pipeline import PhaseContext, Pipeline, RunRequest, RunResult, dry_run
from dive.orchestration.reporting import RunReporter
from dive.orchestration.states import current_state
from dive.secrets.generation import SHARED_TEST_USER_PASSWORD
from dive.store import StoreError, writer_session_factory

__all__ = [
    "DeployFlags",
    "deploy_environment",
    "finish_deploy",
    "instance_down",
    "instance_seed",
    "instance_status",
    "instance_up",
    "lifecycle_phase",
    "print_urls",
    "print_verify",
    "require_deployed",
    "run_deploy",
    "run_lifecycle",
    "run_operation",
    "spoke_code",
    "with_json",
]


@dataclass(frozen=True, kw_only=True)
class DeployFlags:
    resume: bool = False
    from_phase: str | None = None
    only_phase: str | None = None
    skip: Sequence[str] = ()
    seed_count: int | None = None
    with_test_users: bool = False
    skip_federation: bool = False
    approval_timeout_s: float | None = None
    hub_planned: bool = False  # a quickstart dry run: the hub its spokes federate with is only planned
    force: bool = False
    wait_lock_s: float = 0.0
    dry_run: bool = False
    run_id: str | None = None


def deploy_environment(options: GlobalOptions, flags: DeployFlags | None = None) -> dict[str, str]:
    """The environment a run sees: the process's, with the global options and the deploy flags folded in."""
    environ = dict(os.environ)
    environ["DIVE_HOME"] = str(options.home)
    environ["DIVE_ENV"] = options.env
    if flags is not None and flags.seed_count is not None:
        environ["DIVE_SEED_COUNT"] = str(flags.seed_count)
    if flags is not None and flags.with_test_users:
        environ["DIVE_WITH_TEST_USERS"] = "1"
    if flags is not None and flags.skip_federation:
        environ["DIVE_SKIP_FEDERATION"] = "1"
    if flags is not None and flags.approval_timeout_s is not None:
        environ["DIVE_APPROVAL_TIMEOUT_S"] = str(flags.approval_timeout_s)
    if flags is not None and flags.hub_planned:
        environ["DIVE_HUB_PLANNED"] = "1"
    return environ


def run_deploy(
    options: GlobalOptions,
    *,
    pipeline: str,
    code: str,
    phases: list[Phase],
    targets: dict[str, int],
    flags: DeployFlags,
) -> RunResult | None:
    """Run a deploy of `code`; returns the result (None after a dry run), or exits on a refusal (exit 2)."""
    environ = deploy_environment(options, flags)
    command = "hub deploy" if pipeline == "hub" else f"spoke deploy {code}"
    try:
        selection = select_phases(
            phases, resume=flags.resume, from_phase=flags.from_phase, only_phase=flags.only_phase, skip=flags.skip
        )
        request = RunRequest(
            pipeline=pipeline,
            command=command,
            code=code,
            selection=selection,
            args=_arguments(flags),
            wait_lock_s=flags.wait_lock_s,
            force=flags.force,
            run_id=flags.run_id,
        )
        if flags.dry_run or options.dry_run:
            _print_dry_run(options, phases, request, environ)
            return None
        return _execute(options, phases, request, environ, targets)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)


def run_operation(options: GlobalOptions, code: str, command: str, phase: Phase, environ: dict[str, str]) -> RunResult:
    """An `operation` run (§2.2: up, down, seed): the instance lock and a run row, no state change."""
    request = RunRequest(
        pipeline="hub" if code == catalog.HUB else "spoke", command=command, code=code, selection=Selection("operation")
    )
    return _execute(options, [phase], request, environ, {})


def _arguments(flags: DeployFlags) -> dict[str, object]:
    return {key: value for key, value in vars(flags).items() if value not in (None, False, (), [], 0.0)}


def _execute(
    options: GlobalOptions,
    phases: list[Phase],
    request: RunRequest,
    environ: dict[str, str],
    targets: dict[str, int],
) -> RunResult:
    options.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        engine, _schema = open_orchestration_db(options.home, environ)
    except StoreError as exc:
        raise PreconditionError(f"the orchestration database cannot be opened: {exc.message}") from exc
    console = Console(stderr=True, no_color=not options.color, highlight=False, soft_wrap=True)
    if not options.quiet:
        console.print(f"DIVE {request.command} · {request.code.upper()} · env {options.env} · home {options.home}")
    reporter = RunReporter(console, [p.name for p in phases], targets, quiet=options.quiet)
    try:
        with reporter:
            result = Pipeline(phases, home=options.home, engine=engine, environ=environ, listeners=(reporter,)).run(
                request
            )
    finally:
        engine.dispose()
    return result


def _print_dry_run(options: GlobalOptions, phases: list[Phase], request: RunRequest, environ: dict[str, str]) -> None:
    report = dry_run(phases, request, home=options.home, environ=environ)
    typer.echo(f"Dry run of dive {request.command}: nothing is locked, written or started.")
    for line in report.lines:
        typer.echo(f"{line.phase:<15} {line.verdict:<11} {line.reason}")
        for planned in line.plan:
            typer.echo(f"{'':<15}   - {planned}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def finish_deploy(options: GlobalOptions, facts: InstanceFacts, result: RunResult | None, role: str) -> None:
    """The last lines of §2.3: the outcome, URLs and where the test users' credentials are; exit with the code."""
    if result is None:
        return
    if result.run_id is None or result.exit_code != 0:
        typer.echo(result.message, err=result.exit_code != 0)
        if result.exit_code != 0:
            redo = "hub deploy" if facts.is_hub else f"spoke deploy {facts.code}"
            typer.echo(f"State: {result.final_state}. Fix the cause, then: dive {redo} --resume", err=True)
        raise typer.Exit(result.exit_code)
    typer.echo(f"{role} {facts.display} is {result.final_state} in {result.duration_s:.1f} s.")
    if not options.quiet:
        print_urls(facts)


def print_urls(facts: InstanceFacts) -> None:
    services = facts.services
    parts = [f"{label} {facts.url(svc)}{path}" for label, svc, path in _URLS if svc in services]
    typer.echo("  " + "   ".join(parts))
    if facts.accounts:
        typer.echo(
            f"  Test users: testuser-{facts.code}-1 … -5, contractor-{facts.code} "
            f"(password: dive secrets get {SHARED_TEST_USER_PASSWORD} --reveal; "
            f"TOTP: dive --instance {facts.code} secrets get totp/<user> --reveal), "
            f"admin-{facts.code} (dive --instance {facts.code} secrets get admin-user-password --reveal)"
        )


_URLS = (
    ("Web", "web", ""),
    ("API", "api", "/api/health"),
    ("IdP", "idp", ""),
    ("KAS", "kas", "/kas/v2/kas_public_key"),
    ("PDP", "pdp", "/health"),
)


def print_verify(options: GlobalOptions, facts: InstanceFacts, results: list[CheckResult]) -> None:
    failed = [r for r in results if r.status == "fail"]
    counted = [r for r in results if r.status != "skip"]
    if options.json:
        checks = [vars(r) for r in results]
        document = {
            "schema": "dive.verify/1",
            "instance": facts.display,
            "passed": len(counted) - len(failed),
            "total": len(counted),
            "skipped": len(results) - len(counted),
            "result": "fail" if failed else "pass",
            "checks": checks,
        }
        typer.echo(json.dumps(document))
    else:
        table = Table("CHECK", "RESULT", "DETAIL", box=None)
        for r in results:
            table.add_row(r.id, r.status.upper(), r.detail + (f" → {r.remediation}" if r.remediation else ""))
        Console(no_color=not options.color, highlight=False).print(table)
        skipped = ", ".join(r.id for r in results if r.status == "skip")
        typer.echo(
            f"Passed: {len(counted) - len(failed)}/{len(counted)}" + (f" (skipped: {skipped})" if skipped else "")
        )
    raise typer.Exit(1 if failed else 0)


def require_deployed(options: GlobalOptions, code: str) -> None:
    """Exit 2 unless the instance has a recorded deployment state (§2.2 `up` needs a prior deploy)."""
    environ = deploy_environment(options)
    if not (options.home / "orchestration.db").exists() and not environ.get("DIVE_DATABASE_URL"):
        exit_with(_not_deployed(code), as_json=options.json)
    engine, _ = open_orchestration_db(options.home, environ)
    try:
        with writer_session_factory(engine)() as session:
            state = current_state(session, code).state
    finally:
        engine.dispose()
    if state == "UNKNOWN":
        exit_with(_not_deployed(code), as_json=options.json)


def _not_deployed(code: str) -> PreconditionError:
    command = "dive hub deploy" if code == catalog.HUB else f"dive spoke deploy {code}"
    return PreconditionError(f"{code.upper()} has not been deployed; run `{command}` first")


def lifecycle_phase(name: str, title: str, action: Callable[[InstanceFacts], str]) -> Phase:
    """A one-phase operation (`up`, `down`) recorded under the pipeline phase it acts on (SERVICES, DEPLOYMENT)."""

    def run(context: PhaseContext) -> str:
        return action(instance_facts(context.home, context.code, context.environ))

    def done(_context: PhaseContext) -> Check:
        return Check(True, title)

    return Phase(
        name=name,
        title=title,
        state="DEPLOYING",
        budget_s=300,
        run=run,
        is_complete=done,
        plan=lambda _context: [title],
    )


def with_json(options: GlobalOptions, as_json: bool) -> GlobalOptions:
    return replace(options, json=options.json or as_json)


def instance_up(options: GlobalOptions, code: str) -> None:
    require_deployed(options, code)
    run_lifecycle(options, code, "up", run_services)


def instance_down(options: GlobalOptions, code: str) -> None:
    require_deployed(options, code)
    run_lifecycle(options, code, "down", _stop)


def _stop(facts: InstanceFacts) -> str:
    stop_services(facts)
    return "stopped"


def run_lifecycle(options: GlobalOptions, code: str, action: str, step: Callable[[InstanceFacts], str]) -> None:
    """`up`/`down`/`restart` of one instance as an operation run; exits only when it fails."""
    role = "hub" if code == catalog.HUB else "spoke"
    command = f"{role} {action}" + ("" if code == catalog.HUB else f" {code}")
    phase = lifecycle_phase("SERVICES" if code == catalog.HUB else "DEPLOYMENT", action, step)
    try:
        result = run_operation(options, code, command, phase, deploy_environment(options))
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    if result.exit_code:
        typer.echo(f"{code.upper()}: {result.message}", err=True)
        raise typer.Exit(result.exit_code)


def instance_seed(options: GlobalOptions, code: str, count: int | None, reset: bool) -> None:
    """`seed [N] [--reset]`: SEEDING as an operation run up to N documents."""
    require_deployed(options, code)
    environ = deploy_environment(options, DeployFlags(seed_count=count))
    facts = instance_facts(options.home, code, environ)
    if reset:
        typer.echo(f"{delete_seeded(facts):,} seeded documents of {facts.display} deleted")
    seeding = next(phase for phase in (hub_phases() if facts.is_hub else spoke_phases()) if phase.name == "SEEDING")
    role = "hub" if facts.is_hub else "spoke"
    command = f"{role} seed" + ("" if facts.is_hub else f" {code}")
    try:
        result = run_operation(options, code, command, seeding, environ)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    typer.echo(result.steps[-1].summary if result.steps else result.message)
    raise typer.Exit(result.exit_code)


def instance_status(options: GlobalOptions, code: str) -> None:
    """The detailed view of one instance (§11.1): state, lock, services, documents, last run, open errors."""
    document = status_document(options.home, deploy_environment(options))
    rows = [row for row in document["instances"] if row["code"] == code.upper()]
    if not rows:
        exit_with(
            PreconditionError(f"unknown instance {code.upper()}: nothing is deployed under {options.home}"),
            as_json=options.json,
        )
    row = rows[0]
    if options.json:
        typer.echo(json.dumps({**document, "instances": rows}, default=str))
        return
    typer.echo(f"{row['code']} ({row['role']}) · state {row['state']} since {row['state_since']}")
    table = Table("SERVICE", "STATUS", "PID", "PORT", "LATENCY", box=None)
    for name, service in row["services"].items():
        latency = f"{service['latency_ms']} ms" if service["latency_ms"] is not None else "-"
        table.add_row(name, service["status"], str(service["pid"] or "-"), str(service["port"]), latency)
    Console(no_color=not options.color, highlight=False).print(table)
    facts = instance_facts(options.home, code, deploy_environment(options))
    typer.echo(f"Realm {facts.realm} · issuer {facts.issuer} · KAS {facts.kas_url}")
    typer.echo(f"Documents: {row['documents'] if row['documents'] is not None else '-'}")
    if row["last_run"]:
        run = row["last_run"]
        typer.echo(f"Last run: {run['run_id']} {run['command']} {run['outcome']} ({run['duration_s']} s)")
    if row["lock"]:
        typer.echo(f"Lock held by pid {row['lock'].get('holder_pid') or row['lock'].get('pid')}")
    for error in row["open_errors"]:
        typer.echo(f"Open error: {error['code']} — {error['message']}")


def spoke_code(options: GlobalOptions, code: str | None) -> str:
    """The positional CODE or `--instance`; exit 2 when absent, conflicting, malformed or the hub (§2.1)."""
    try:
        given = catalog.normalize_code(code) if code else None
    except catalog.CatalogError as exc:
        exit_with(UsageError(str(exc)), as_json=options.json)
    if given and options.instance and given != options.instance:
        exit_with(UsageError(f"CODE {given.upper()} differs from --instance {options.instance.upper()}"), as_json=False)
    chosen = given or options.instance
    if chosen is None:
        exit_with(UsageError("give the spoke's CODE (or --instance CODE)"), as_json=options.json)
    if chosen == catalog.HUB:
        exit_with(UsageError("usa is the hub; use `dive hub deploy`"), as_json=options.json)
    if not catalog.is_catalog_code(chosen):
        exit_with(UsageError(f"unknown instance {chosen.upper()}: test codes are not supported yet"), as_json=False)
    return chosen
