"""The `dive` Typer app and the console-script entry point (`dive = dive.cli.main:main`)."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import typer

from dive.cli import federation as federation_cli
from dive.cli import hub as hub_cli
from dive.cli import kas as kas_cli
from dive.cli import monitoring as monitoring_cli
from dive.cli import ops as ops_cli
from dive.cli import orchdb as orchdb_cli
from dive.cli import secrets as secrets_cli
from dive.cli import spoke as spoke_cli
from dive.cli import ztdf as ztdf_cli
from dive.cli.quickstart import quickstart_command
from dive.cli.serve import serve_command
from dive.cli.validate import validate_command
from dive.orchestration.errors import OrchestrationError
from dive.orchestration.invocation import GlobalOptions, exit_with

__all__ = ["app", "main"]

# Pretty tracebacks print local variables, which may hold secrets: plain tracebacks only.
app = typer.Typer(
    name="dive",
    help="DIVE V3: deploy and run coalition identity, policy and key-access services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("serve")(serve_command)
app.add_typer(kas_cli.app, name="kas")
app.add_typer(ztdf_cli.app, name="ztdf")
app.add_typer(orchdb_cli.app, name="orch-db")
app.add_typer(hub_cli.app, name="hub")
app.add_typer(spoke_cli.app, name="spoke")
app.add_typer(federation_cli.app, name="federation")
app.add_typer(secrets_cli.app, name="secrets")
app.add_typer(monitoring_cli.app, name="monitoring")
app.command("quickstart")(quickstart_command)
ops_cli.register(app)
app.command("validate")(validate_command)


def _print_version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"dive {version('dive')}")
        except PackageNotFoundError:
            typer.echo("dive (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    context: typer.Context,
    show_version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
    instance: str | None = typer.Option(None, "--instance", help="Default instance for commands taking a CODE."),
    env: str | None = typer.Option(None, "--env", help="local or production (default: $DIVE_ENV or local)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Plan only: no lock, no writes, no processes."),
    json_output: bool = typer.Option(False, "--json", help="Data commands print one JSON document on stdout."),
    home: Path | None = typer.Option(None, "--home", help="Deployment home (default: $DIVE_HOME or ./.dive)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (secrets redacted)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Errors and the final line only."),
    yes: bool = typer.Option(False, "--yes", "-y", "--non-interactive", help="Never prompt; answer yes."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain output (also NO_COLOR)."),
) -> None:
    """DIVE V3: deploy and run coalition identity, policy and key-access services."""
    try:
        context.obj = GlobalOptions.build(
            instance=instance,
            env=env,
            home=home,
            environ=os.environ,
            dry_run=dry_run,
            json=json_output,
            verbose=verbose,
            quiet=quiet,
            yes=yes,
            no_color=no_color,
        )
    except OrchestrationError as exc:
        exit_with(exc, as_json=json_output)


def main() -> None:
    app(prog_name="dive")
