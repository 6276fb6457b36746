"""The `dive` command line (Typer): one module per command group, assembled in `dive.cli.main`."""

from __future__ import annotations

from dive.cli.main import app, main

__all__ = ["app", "main"]
