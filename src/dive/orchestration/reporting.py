"""Progress of a run on stderr (spec/orchestration.md §4.6, §2.3): on a TTY a Rich live line
`[i/N] PHASE · sub-step` with a bar and phase/total elapsed time; otherwise one timestamped line per event.
Finished phases print `✓/↷/✗ NAME  duration  summary`; phases slower than twice their target are marked `slow`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dive.orchestration.events import Event

__all__ = ["RunReporter"]

_MARKS = {"phase_completed": "✓", "phase_skipped": "↷", "phase_failed": "✗"}


class RunReporter:
    """An event listener for `Pipeline(listeners=…)`; use it as a context manager around the run."""

    def __init__(
        self, console: Console, phases: Sequence[str], targets: Mapping[str, float], *, quiet: bool = False
    ) -> None:
        self.console, self.phases, self.targets, self.quiet = console, list(phases), targets, quiet
        self.live = console.is_terminal and not quiet
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("· total"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=len(phases))
        self._phase_started = time.monotonic()
        self.slow: list[str] = []

    def __enter__(self) -> RunReporter:
        if self.live:
            self._progress.start()
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.live:
            self._progress.stop()

    def __call__(self, event: Event) -> None:
        kind, phase = str(event["event"]), event.get("phase")
        if kind == "phase_started":
            self._phase_started = time.monotonic()
            self._describe(str(phase), str(event.get("message") or ""))
        elif kind == "substep" and phase:
            self._describe(str(phase), str(event.get("message") or ""))
        elif kind in _MARKS:
            self._finished(kind, str(phase), event)
        elif kind == "warning" and not self.quiet:
            self.console.print(f" ! {event.get('message')}", highlight=False)
        elif not self.live and not self.quiet and kind in ("run_started", "state_changed", "run_finished"):
            self.console.print(f"{event['ts']} {kind} {event.get('data') or ''}", highlight=False)

    def _describe(self, phase: str, message: str) -> None:
        index = self.phases.index(phase) + 1 if phase in self.phases else 0
        text = f"[{index}/{len(self.phases)}] {phase} · {message}"
        if self.live:
            self._progress.update(self._task, description=text)
        elif not self.quiet:
            self.console.print(f"{time.strftime('%H:%M:%S')} {text}", highlight=False)

    def _finished(self, kind: str, phase: str, event: Event) -> None:
        data = event.get("data") or {}
        assert isinstance(data, Mapping)
        duration = float(event.get("duration_s") or (time.monotonic() - self._phase_started))
        if kind == "phase_skipped":
            duration = 0.0
        summary = data.get("summary") or data.get("reason") or data.get("message") or ""
        target = self.targets.get(phase)
        slow = kind == "phase_completed" and target is not None and duration > 2 * target
        if slow:
            self.slow.append(phase)
        self._progress.advance(self._task)
        if not self.quiet or kind == "phase_failed":
            note = "  slow" if slow else ""
            line = f" {_MARKS[kind]} {phase:<15} {duration:6.1f} s  {summary}{note}"
            self.console.print(line, highlight=False, markup=False)
