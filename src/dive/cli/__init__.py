"""The `dive` command line (Typer): one module per command group, assembled in `dive.cli.main`.

Nothing is re-exported here: importing the package must not load every command group (the supervisor runtime
imports `dive.service.factories`, not the CLI).
"""

from __future__ import annotations

__all__: list[str] = []
