"""`dive validate [--json]` (spec/orchestration.md §11.3): exit 0 with no FAIL row, 1 otherwise."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import typer
from rich.console import Console
from rich.table import Table

from dive import catalog
from dive.cli.instance_commands import deploy_environment
from dive.orchestration.errors import UsageError
from dive.orchestration.invocation import exit_with, options_of
from dive.orchestration.validate import validate_home
from dive.orchestration.validation_rows import count_statuses, validation_document

__all__ = ["validate_command"]

_PIPE_WIDTH = 200


def validate_command(
    context: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout.")
) -> None:
    """Verify the whole environment: host, home, ports, CA, databases, secrets and every COMPLETE instance."""
    options = options_of(context)
    options = replace(options, json=options.json or as_json)
    try:
        rows = validate_home(options.home, deploy_environment(options))
    except catalog.CatalogError as exc:  # §1.2: a shift pushing a port past 65535 is a usage error
        exit_with(UsageError(str(exc)), as_json=options.json)
    document = validation_document(rows, home=options.home, now=dt.datetime.now(dt.UTC))
    if options.json:
        typer.echo(json.dumps(document))
    else:
        console = Console(no_color=not options.color, highlight=False)
        if not console.is_terminal:
            console.width = _PIPE_WIDTH
        table = Table("CHECK", "INSTANCE", "RESULT", "DETAIL", box=None)
        for row in rows:
            detail = row.detail + (f" → {row.remediation}" if row.remediation and row.status != "OK" else "")
            table.add_row(row.id, row.instance or "-", row.status, detail)
        console.print(table)
        typer.echo(" · ".join(f"{status} {count}" for status, count in count_statuses(rows).items()))
    raise typer.Exit(1 if document["result"] == "fail" else 0)
