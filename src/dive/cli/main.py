"""The `dive` Typer app and the console-script entry point (`dive = dive.cli.main:main`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from dive.cli import kas as kas_cli
from dive.cli import ztdf as ztdf_cli
from dive.cli.serve import serve_command

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


def _print_version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"dive {version('dive')}")
        except PackageNotFoundError:
            typer.echo("dive (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    show_version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """DIVE V3: deploy and run coalition identity, policy and key-access services."""


def main() -> None:
    app(prog_name="dive")
