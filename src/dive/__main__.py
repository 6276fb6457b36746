"""`python -m dive` runs the command line, as the `dive` console script does."""

from __future__ import annotations

from dive.cli.main import main

main()
