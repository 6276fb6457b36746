"""Global flags of the `dive` command line and its error output (spec/orchestration.md §2.1)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

import typer

from dive import catalog
from dive.orchestration.errors import OrchestrationError, UsageError

__all__ = ["ERROR_SCHEMA", "GlobalOptions", "error_document", "exit_with", "options_of", "resolve_home"]

ERROR_SCHEMA: Final = "dive.error/1"
_ENVIRONMENTS: Final = {"local": "local", "development": "local", "test": "local", "production": "production"}


@dataclass(frozen=True, kw_only=True)
class GlobalOptions:
    instance: str | None = None  # lower case
    env: str = "local"
    dry_run: bool = False
    json: bool = False
    home: Path
    verbose: bool = False
    quiet: bool = False
    yes: bool = False
    color: bool = True

    @staticmethod
    def build(
        *,
        instance: str | None,
        env: str | None,
        home: Path | None,
        environ: Mapping[str, str],
        **flags: bool,
    ) -> GlobalOptions:
        """Validate the global flags; a bad value is a usage error (exit 2)."""
        raw_env = (env or environ.get("DIVE_ENV") or "local").lower()
        if raw_env not in _ENVIRONMENTS:
            raise UsageError(f"--env {raw_env}: choose local or production")
        try:
            code = catalog.normalize_code(instance) if instance else None
        except catalog.CatalogError as exc:
            raise UsageError(str(exc)) from exc
        if flags.get("verbose") and flags.get("quiet"):
            raise UsageError("--verbose and --quiet exclude each other")
        color = not flags.pop("no_color", False) and not environ.get("NO_COLOR")
        return GlobalOptions(
            instance=code, env=_ENVIRONMENTS[raw_env], home=resolve_home(home, environ), color=color, **flags
        )


def resolve_home(home: Path | None, environ: Mapping[str, str]) -> Path:
    """`--home`, else `DIVE_HOME`, else `./.dive`, made absolute (§1.1)."""
    return Path(home or environ.get("DIVE_HOME") or "./.dive").expanduser().absolute()


def error_document(exc: OrchestrationError) -> dict[str, object]:
    return {
        "schema": ERROR_SCHEMA,
        "error": {"code": exc.record_code, "message": exc.message, "detail": exc.detail},
        "exit_code": exc.exit_code,
    }


def exit_with(exc: OrchestrationError, *, as_json: bool) -> NoReturn:
    """Print the error (a `dive.error/1` document on stdout with --json, a sentence on stderr otherwise), then exit."""
    if as_json:
        sys.stdout.write(json.dumps(error_document(exc), default=str) + "\n")
    else:
        sys.stderr.write(f"✗ {exc.message}\n")
        if exc.remediation:
            sys.stderr.write(f"  Remediation: {exc.remediation}\n")
    raise typer.Exit(exc.exit_code)


def options_of(context: typer.Context) -> GlobalOptions:
    """The global options the root callback stored; a sub-app invoked alone gets the defaults."""
    found = context.find_root().obj
    if isinstance(found, GlobalOptions):
        return found
    return GlobalOptions(home=resolve_home(None, os.environ))
