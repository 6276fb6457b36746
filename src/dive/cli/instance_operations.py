"""What `hub` and `spoke` share for `phases`, `history` and `restart` (spec/orchestration.md §2.2): the read-only
views take no lock; a restart is an operation run under the instance lock."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from dive import catalog
from dive.cli.instance_commands import deploy_environment, require_deployed, run_lifecycle
from dive.orchestration.deploy import hub_phases, instance_facts, spoke_phases
from dive.orchestration.deploy.inventory import open_existing_orchestration_db
from dive.orchestration.deploy.restart import require_service, restart_services
from dive.orchestration.errors import OrchestrationError
from dive.orchestration.invocation import GlobalOptions, exit_with
from dive.orchestration.run_history import (
    PhaseRow,
    RunSummary,
    history_document,
    inspect_phases,
    phases_document,
    recent_runs,
    resume_point_of,
)
from dive.store import writer_session_factory

__all__ = ["format_duration", "instance_history", "instance_phases", "instance_restart"]

_PIPE_WIDTH = 200


def format_duration(seconds: float | None) -> str:
    """Humans see 0.1 s precision (§0); an unknown duration is a dash."""
    return "-" if seconds is None else f"{seconds:.1f} s"


def _console(options: GlobalOptions) -> Console:
    console = Console(no_color=not options.color, highlight=False)
    if not console.is_terminal:
        console.width = _PIPE_WIDTH
    return console


def instance_phases(options: GlobalOptions, code: str, *, timing: bool) -> None:
    """Each phase: fatal, last status and duration, live checkpoint validity; then the resume point."""
    environ = deploy_environment(options)
    phases = hub_phases() if code == catalog.HUB else spoke_phases()
    engine = open_existing_orchestration_db(options.home, environ)
    try:
        rows = inspect_phases(
            phases,
            engine,
            home=options.home,
            code=code,
            environ=environ,
            pipeline="hub" if code == catalog.HUB else "spoke",
        )
    finally:
        if engine is not None:
            engine.dispose()
    if options.json:
        typer.echo(json.dumps(phases_document(code, phases, rows, timing=timing)))
        return
    _console(options).print(_phases_table(rows, timing=timing))
    point = resume_point_of(phases, rows)
    typer.echo(
        f"Resume point: {point}"
        if point
        else "Resume point: none — every checkpoint is valid (--resume runs PREFLIGHT and VERIFICATION only)"
    )


def _phases_table(rows: list[PhaseRow], *, timing: bool) -> Table:
    columns = ["PHASE", "FATAL", "LAST STATUS", "DURATION", "CHECKPOINT", "REASON"]
    table = Table(*columns, *(["LAST 5 RUNS"] if timing else []), box=None)
    for row in rows:
        valid = {True: "valid", False: "invalid", None: "-"}[row.checkpoint_valid]
        cells = [
            row.phase,
            "yes" if row.fatal else "no",
            row.last_status or "-",
            format_duration(row.duration_s),
            valid,
            row.reason,
        ]
        if timing:
            cells.append(" ".join(format_duration(seconds) for seconds in row.timing) or "-")
        table.add_row(*cells)
    return table


def instance_history(options: GlobalOptions, code: str, limit: int) -> None:
    """The last `limit` runs of the instance, newest first."""
    engine = open_existing_orchestration_db(options.home, deploy_environment(options))
    runs: list[RunSummary] = []
    if engine is not None:
        try:
            with writer_session_factory(engine)() as session:
                runs = recent_runs(session, code, limit)
        finally:
            engine.dispose()
    if options.json:
        typer.echo(json.dumps(history_document(code, runs)))
        return
    if not runs:
        typer.echo(f"No runs recorded for {code.upper()} under {options.home}.")
        return
    table = Table("RUN", "COMMAND", "KIND", "STARTED", "DURATION", "OUTCOME", "STATE", "FAILED PHASE", box=None)
    for run in runs:
        table.add_row(
            run.run_id,
            run.command,
            run.kind,
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            format_duration(run.duration_s),
            run.outcome,
            run.final_state or "-",
            run.failed_phase or "-",
        )
    _console(options).print(table)


def instance_restart(options: GlobalOptions, code: str, service: str | None) -> None:
    """Re-render the settings and restart the group or one service, as an operation run (exit 2 when refused)."""
    try:
        require_service(instance_facts(options.home, code, deploy_environment(options)), service)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    require_deployed(options, code)
    action = f"restart {service}" if service else "restart"
    run_lifecycle(options, code, action, lambda facts: restart_services(facts, service))
    typer.echo(f"{code.upper()}: {service or 'all services'} restarted, healthy")
