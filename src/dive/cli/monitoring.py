"""`dive monitoring up|down|status` (spec/orchestration.md §12.2): Prometheus and Alertmanager for this DIVE_HOME."""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from dive.orchestration.errors import OrchestrationError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.orchestration.monitoring import monitoring_down, monitoring_status, monitoring_up, scrape_targets

__all__ = ["app"]

app = typer.Typer(
    help="The monitoring stack: Prometheus and Alertmanager scraping every instance.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def _environment(options: GlobalOptions) -> dict[str, str]:
    """The process environment as is: `DIVE_ENV=test` (1 s scrapes) must survive the `local` normalisation."""
    return dict(os.environ) | {"DIVE_HOME": str(options.home)}


@app.command("up")
def up_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """Render prometheus.yml, alertmanager.yml and the alert rules, start both and wait until they are ready."""
    options = options_of(context)
    if options.dry_run:
        targets = scrape_targets(options.home)
        typer.echo(f"would start Prometheus and Alertmanager scraping {len(targets)} targets")
        return
    console = Console(stderr=True, no_color=not options.color, quiet=options.quiet or options.json)
    try:
        with console.status("Starting Prometheus and Alertmanager…"):
            document = monitoring_up(options.home, _environment(options))
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json or as_json)
    _print(document, options, as_json)


@app.command("down")
def down_command(context: typer.Context) -> None:
    """Stop and remove the monitoring group (its data and configuration stay in monitoring/)."""
    options = options_of(context)
    try:
        stopped = monitoring_down(options.home)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    typer.echo("Monitoring stopped." if stopped else "Monitoring was not running.")


@app.command("status")
def status_command(context: typer.Context, as_json: bool = _JSON) -> None:
    """Prometheus and Alertmanager states and the scrape targets up/total (from Prometheus' /api/v1/targets)."""
    options = options_of(context)
    _print(monitoring_status(options.home, _environment(options)), options, as_json)


def _print(document: dict[str, Any], options: GlobalOptions, as_json: bool) -> None:
    if options.json or as_json:
        typer.echo(json.dumps(document))
        return
    prometheus, alertmanager, targets = document["prometheus"], document["alertmanager"], document["targets"]
    typer.echo(
        f"Prometheus {prometheus['state']} ({prometheus['url']}) · Alertmanager {alertmanager['state']} "
        f"({alertmanager['url']}) · targets {targets['up']}/{targets['total']} up"
    )
    if targets["error"]:
        typer.echo(targets["error"], err=True)
    if targets["items"]:
        table = Table("INSTANCE", "SERVICE", "HEALTH", "URL", "LAST ERROR", box=None)
        for item in targets["items"]:
            table.add_row(item["instance_code"], item["service"], item["health"], item["url"], item["last_error"] or "")
        Console(no_color=not options.color, highlight=False, width=200).print(table)
