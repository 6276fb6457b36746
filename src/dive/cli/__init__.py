"""The `dive` command line (Typer): one module per command group, assembled in `dive.cli.main`."""
