"""`dive spoke clean-locks [CODE] [--force]` (spec/orchestration.md §6.4): exit 0 when no lock remains held."""

from __future__ import annotations

import json
import sys

import typer

from dive import catalog
from dive.cli.instance_commands import deploy_environment
from dive.orchestration.clean_locks import LockCleaning, clean_locks, clean_locks_document
from dive.orchestration.deploy.inventory import open_existing_orchestration_db
from dive.orchestration.errors import UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of

__all__ = ["clean_locks_command"]


def clean_locks_command(
    context: typer.Context,
    code: str | None = typer.Argument(None, help="Only this instance's lock (default: --instance, else all)."),
    force: bool = typer.Option(False, "--force", help="Terminate a live holder first (asks for confirmation)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Close locks whose holder is gone (crash recovery included); report live holders and leave them alone."""
    options = options_of(context)
    as_json = as_json or options.json
    chosen = _code(options, code, as_json)
    if force:
        _confirm_force(options, chosen, as_json)
    engine = open_existing_orchestration_db(options.home, deploy_environment(options))
    cleanings: list[LockCleaning] = []
    if engine is not None:
        try:
            cleanings = clean_locks(engine, options.home, chosen, force=force)
        finally:
            engine.dispose()
    document = clean_locks_document(cleanings)
    if as_json:
        typer.echo(json.dumps(document, default=str))
    else:
        for cleaning in cleanings:
            typer.echo(cleaning.sentence())
        if not cleanings:
            typer.echo("No deploy lock is recorded" + (f" for {chosen.upper()}." if chosen else "."))
    raise typer.Exit(1 if document["remaining"] else 0)


def _code(options: GlobalOptions, code: str | None, as_json: bool) -> str | None:
    try:
        given = catalog.normalize_code(code) if code else None
    except catalog.CatalogError as exc:
        exit_with(UsageError(str(exc)), as_json=as_json)
    if given and options.instance and given != options.instance:
        exit_with(
            UsageError(f"CODE {given.upper()} differs from --instance {options.instance.upper()}"), as_json=as_json
        )
    return given or options.instance


def _confirm_force(options: GlobalOptions, code: str | None, as_json: bool) -> None:
    """§6.4: `--force` kills processes, so it needs a yes (`--yes`, or an answer on a terminal)."""
    what = f"terminate the live holder of {'deploy:' + code if code else 'every held deploy lock'}"
    if options.yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        exit_with(
            UsageError(f"--force would {what}: confirm with dive --yes spoke clean-locks --force"), as_json=as_json
        )
    if not typer.confirm(f"Really {what}?"):
        exit_with(UsageError("not confirmed; nothing was changed"), as_json=as_json)
