"""What `spoke deploy-all` shows (spec/orchestration.md §4.6–§4.7): a Rich live table on stderr while the children run
(one timestamped line per change when stderr is not a terminal), then a summary table."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dive.orchestration.deploy_all import DeployAllReport, ProgressRow

__all__ = ["FleetView", "summary_table"]


class FleetView:
    """A `Display` for `run_deploy_all`; use it as a context manager around the run."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.live = console.is_terminal and not quiet
        self._live = Live(_progress_table([]), console=console, refresh_per_second=4, transient=True)
        self._last: dict[str, tuple[str, str]] = {}

    def __enter__(self) -> FleetView:
        if self.live:
            self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.live:
            self._live.stop()

    def __call__(self, rows: list[ProgressRow]) -> None:
        if self.live:
            self._live.update(_progress_table(rows))
        elif not self.quiet:
            self._print_changes(rows)

    def _print_changes(self, rows: list[ProgressRow]) -> None:
        for code, phase, elapsed, result in rows:
            if elapsed is None or self._last.get(code) == (phase, result):
                continue
            self._last[code] = (phase, result)
            line = f"{time.strftime('%H:%M:%S')} {code.upper()} {phase} {result} ({elapsed:.1f} s)"
            self.console.print(line, highlight=False, markup=False)


def _progress_table(rows: list[ProgressRow]) -> Table:
    table = Table("SPOKE", "PHASE", "ELAPSED", "RESULT", box=None)
    for code, phase, elapsed, result in rows:
        table.add_row(code.upper(), phase, "-" if elapsed is None else f"{elapsed:.1f} s", Text(result))
    return table


def summary_table(report: DeployAllReport) -> Table:
    """The table printed after every child has finished: one row per spoke, in the order given."""
    table = Table("SPOKE", "EXIT", "STATE", "FAILED PHASE", "DURATION", box=None)
    table.add_column("RUN", no_wrap=True)
    for result in report.results:
        table.add_row(
            result.code.upper(),
            "-" if result.exit_code is None else str(result.exit_code),
            result.final_state or "-",
            result.failed_phase or "-",
            f"{result.duration_s:.1f} s",
            result.run_id,
        )
    return table
