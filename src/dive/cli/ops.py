"""`dive status|health|ps|logs|up|down|nuke|validate|version` (spec/orchestration.md §2.2, §10, §11)."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

import typer
from rich.console import Console
from rich.table import Table

from dive import catalog
from dive.cli.instance_commands import deploy_environment, instance_down, instance_up
from dive.orchestration.deploy.inventory import health_document, ps_document, status_document
from dive.orchestration.deploy.nuke import nuke_all, nuke_instance, refuse_unknown_instance
from dive.orchestration.errors import OrchestrationError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.store import head_revision

__all__ = ["register"]

_JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")
_PIPE_WIDTH: Final = 200
_LOG_SERVICES: Final = ("pdp", "idp", "kas", "api", "web")


def _options(context: typer.Context, as_json: bool = False) -> GlobalOptions:
    options = options_of(context)
    return replace(options, json=options.json or as_json)


def _console(options: GlobalOptions) -> Console:
    console = Console(no_color=not options.color, highlight=False)
    if not console.is_terminal:
        console.width = _PIPE_WIDTH  # tables for pipes and files are not wrapped at 80 columns
    return console


def status_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """Overview of every instance: state, services, documents, last run, open errors."""
    options = _options(context, as_json)
    document = status_document(options.home, deploy_environment(options))
    if options.json:
        typer.echo(json.dumps(document, default=str))
        return
    supervisor = document["supervisor"]
    running = f"running (pid {supervisor['pid']})" if supervisor["running"] else "stopped"
    database = "ok" if document["orchestration_db"]["reachable"] else "absent"
    typer.echo(f"DIVE · home {options.home} · env {options.env} · supervisor {running} · orchestration DB {database}")
    table = Table("INSTANCE", "ROLE", "STATE", "SERVICES", "DOCS", "LAST RUN", "API / IDP / KAS", box=None)
    for row in document["instances"]:
        state = row["state"] + (" (stopped)" if row["state"] == "COMPLETE" and row["healthy"] == 0 else "")
        table.add_row(
            row["code"],
            row["role"],
            state,
            f"{row['healthy']}/{row['total']}",
            f"{row['documents']:,}" if row["documents"] is not None else "-",
            _last_run(row["last_run"]),
            " / ".join(str(row["ports"][s]) for s in ("api", "idp", "kas")),
        )
    _console(options).print(table)
    for row in document["instances"]:
        for error in row["open_errors"]:
            typer.echo(f"Open errors: {row['code']} {error['code']} — {error['remediation'] or error['message']}")


def _last_run(run: dict[str, Any] | None) -> str:
    if run is None:
        return "-"
    mark = "✓" if run["outcome"] == "SUCCEEDED" else "✗"
    failed = f" {run['failed_phase']}" if run["failed_phase"] else ""
    duration = f" ({run['duration_s']} s)" if run["duration_s"] is not None else ""
    return f"{run['command'].split()[1] if ' ' in run['command'] else run['command']} {mark}{failed}{duration}"


def health_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """Quick liveness of the selected instance (--instance) or of all; exit 0 only when healthy."""
    options = _options(context, as_json)
    codes = [options.instance] if options.instance else None
    document = health_document(options.home, deploy_environment(options), codes)
    if options.json:
        typer.echo(json.dumps(document))
    else:
        for row in document["instances"]:
            services = " ".join(f"{name}:{'ok' if s['healthy'] else 'DOWN'}" for name, s in row["services"].items())
            typer.echo(f"{row['code']:<4} {row['status']:<10} {services} db:{'ok' if row['db']['ok'] else 'DOWN'}")
        typer.echo(f"Overall: {document['status']}")
    raise typer.Exit(0 if document["status"] == "healthy" else 1)


def ps_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """The supervisor process table with ports and a health probe."""
    options = _options(context, as_json)
    rows = ps_document(options.home, deploy_environment(options))
    if options.json:
        typer.echo(json.dumps(rows))
        return
    table = Table("INSTANCE", "SERVICE", "PROGRAM", "STATE", "PID", "UPTIME", "PORT", "HEALTH", box=None)
    for r in rows:
        table.add_row(
            r["instance"],
            r["service"],
            r["program"],
            r["state"],
            str(r["pid"] or "-"),
            f"{r['uptime_s']:.0f} s" if r["uptime_s"] is not None else "-",
            str(r["port"]),
            r["health"] or "-",
        )
    _console(options).print(table)


def logs_command(
    context: typer.Context,
    instance: str | None = typer.Argument(None, help="Instance code, or `supervisor`."),
    service: str | None = typer.Argument(None, help="One service (default: all)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (across rotation)."),
    lines: int = typer.Option(100, "-n", min=0, help="Lines to show first."),
) -> None:
    """Service logs, read from instances/<c>/logs/<svc>.log; lines are prefixed `fra/api │`."""
    options = _options(context)
    files = _log_files(options, instance, service)
    for prefix, path in files:
        for line in _tail(path, lines):
            typer.echo(f"{prefix} │ {line}")
    if follow:
        _follow(files)


def _log_files(options: GlobalOptions, instance: str | None, service: str | None) -> list[tuple[str, Path]]:
    if instance == "supervisor":
        return [("supervisor", options.home / "supervisor" / "supervisord.log")]
    code = _code(instance or options.instance or catalog.HUB, options)
    if service is not None and service not in _LOG_SERVICES:
        exit_with(UsageError(f"unknown service {service!r}; choose one of {', '.join(_LOG_SERVICES)}"), as_json=False)
    directory = options.home / "instances" / code / "logs"
    services = [service] if service else [s for s in _LOG_SERVICES if (directory / f"{s}.log").exists()]
    return [(f"{code}/{s}", directory / f"{s}.log") for s in services]


def _tail(path: Path, count: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-count:] if count else []
    except FileNotFoundError:
        return []


def _follow(files: list[tuple[str, Path]]) -> None:
    positions = {path: (path.stat().st_ino, path.stat().st_size) if path.exists() else (0, 0) for _, path in files}
    while True:
        for prefix, path in files:
            for line in _new_lines(path, positions):
                typer.echo(f"{prefix} │ {line}")
        time.sleep(0.5)


def _new_lines(path: Path, positions: dict[Path, tuple[int, int]]) -> Iterator[str]:
    if not path.exists():
        return
    inode, offset = positions[path]
    stat = path.stat()
    if stat.st_ino != inode or stat.st_size < offset:  # rotated: start the new file from its beginning
        offset = 0
    with path.open(errors="replace") as handle:
        handle.seek(offset)
        chunk = handle.read()
        positions[path] = (stat.st_ino, handle.tell())
    yield from chunk.splitlines()


def _code(text: str, options: GlobalOptions) -> str:
    try:
        return catalog.normalize_code(text)
    except catalog.CatalogError as exc:
        exit_with(UsageError(str(exc)), as_json=options.json)


def up_command(context: typer.Context) -> None:
    """Start every deployed instance, the hub first, health-gated."""
    options = _options(context)
    document = status_document(options.home, deploy_environment(options))
    deployed = [row["code"].lower() for row in document["instances"] if row["state"] == "COMPLETE"]
    if not deployed:
        exit_with(UsageError("nothing to start: no instance has completed a deploy"), as_json=options.json)
    for code in deployed:
        instance_up(options, code)
    typer.echo(f"Started {', '.join(c.upper() for c in deployed)}.")


def down_command(context: typer.Context) -> None:
    """Stop every instance's services (spokes first, the hub last)."""
    options = _options(context)
    document = status_document(options.home, deploy_environment(options))
    codes = [row["code"].lower() for row in reversed(document["instances"]) if row["state"] != "UNKNOWN"]
    for code in codes:
        instance_down(options, code)
    typer.echo(f"Stopped {', '.join(c.upper() for c in codes) or 'nothing'}.")


def nuke_command(
    context: typer.Context,
    scope: str = typer.Argument(..., help="all, hub, or spoke"),
    code: str | None = typer.Argument(None, help="The spoke's code (scope spoke)."),
    confirm: bool = typer.Option(False, "--confirm", help="Required: this destroys the deployment."),
    dry: bool = typer.Option(False, "--dry-run", "-n", help="List what would be removed."),
    keep_data: bool = typer.Option(
        False, "--keep-data", help="Keep databases, secrets and the CA; remove processes, registrations, logs."
    ),
    force: bool = typer.Option(False, "--force", help="Terminate a live lock holder first (else exit 2)."),
) -> None:
    """Remove everything of a scope and verify that nothing is left behind (exit 1 if anything remains)."""
    options = _options(context)
    if scope not in ("all", "hub", "spoke") or (scope == "spoke") != (code is not None):
        exit_with(UsageError("usage: dive nuke all|hub|spoke CODE --confirm"), as_json=options.json)
    target = catalog.HUB if scope == "hub" else (_code(code, options) if code else None)
    if dry or options.dry_run:
        typer.echo(f"would remove: {options.home if target is None else options.home / 'instances' / target}")
        if keep_data:
            typer.echo("would keep: databases, secrets, the CA and KAS keys (--keep-data)")
        return
    if not confirm:
        word = scope if scope != "spoke" else str(code).lower()
        exit_with(
            UsageError(
                f"nuke {word} needs --confirm (non-interactive): dive nuke {scope} {code or ''} --confirm".replace(
                    "  ", " "
                )
            ),
            as_json=options.json,
        )
    environ = deploy_environment(options)
    try:
        if target is None:
            report = nuke_all(options.home, environ, keep_data=keep_data, force=force)
        else:
            refuse_unknown_instance(options.home, target)
            report = nuke_instance(options.home, environ, target, keep_data=keep_data, force=force)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    typer.echo(report.sentence())
    raise typer.Exit(1 if report.remaining else 0)


def version_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """CLI version, schema head, Python version."""
    options = _options(context, as_json)
    try:
        cli = version("dive")
    except PackageNotFoundError:
        cli = "not installed"
    document = {
        "schema": "dive.version/1",
        "cli": cli,
        "schema_head": head_revision(),
        "python": platform.python_version(),
        "executable": sys.executable,
    }
    if options.json:
        typer.echo(json.dumps(document))
    else:
        typer.echo(f"dive {cli} · schema head {document['schema_head']} · Python {document['python']}")


def register(app: typer.Typer) -> None:
    """Add the top-level operational commands to the root app."""
    for name, command in (
        ("status", status_command),
        ("health", health_command),
        ("ps", ps_command),
        ("logs", logs_command),
        ("up", up_command),
        ("down", down_command),
        ("nuke", nuke_command),
        ("version", version_command),
    ):
        app.command(name)(command)
