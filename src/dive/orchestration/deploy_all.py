"""`dive spoke deploy-all` (spec/orchestration.md §4.7): parallel spoke deploys as child processes.

The parent takes no lock. Each child is an ordinary `dive spoke deploy` run, so a failure stays isolated in its own
run, state and lock. The parent chooses each child's run id (`--run-id`), which fixes the event-log path before the
child starts, and follows those logs to show a live table; the children run in their own sessions so that a Ctrl-C
reaches them once, forwarded by the parent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from dive import catalog
from dive.orchestration.errors import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, PreconditionError, UsageError
from dive.orchestration.events import Event, new_run_id, run_log_path
from dive.orchestration.states import current_state
from dive.store.models.orchestration import PipelineRun

__all__ = [
    "DEPLOY_ALL_SCHEMA",
    "ChildProgress",
    "ChildResult",
    "DeployAllReport",
    "Display",
    "ProgressRow",
    "SpokeJob",
    "child_command",
    "default_parallel",
    "normalize_spoke_codes",
    "outcome_message",
    "overall_exit_code",
    "plan_jobs",
    "refuse_unfederatable",
    "run_deploy_all",
    "spokes_with_history",
    "summary_document",
]

DEPLOY_ALL_SCHEMA: Final = "dive.deploy-all/1"
POLL_S: Final = 0.25
_REAP_TIMEOUT_S: Final = 30.0


def default_parallel() -> int:
    """`min(4, cpu count)` (§4.7)."""
    return min(4, os.cpu_count() or 1)


def normalize_spoke_codes(raw: Sequence[str]) -> list[str]:
    """Lower-case catalog spoke codes in the given order, each once; the hub or an unknown code is a usage error."""
    codes: list[str] = []
    for text in raw:
        try:
            code = catalog.normalize_code(text)
        except catalog.CatalogError as exc:
            raise UsageError(str(exc)) from exc
        if code == catalog.HUB:
            raise UsageError("usa is the hub and is not deployed by deploy-all; use `dive hub deploy`")
        if not catalog.is_catalog_code(code):
            raise UsageError(f"unknown instance {code.upper()}: test codes are not supported yet")
        if code not in codes:
            codes.append(code)
    return codes


def spokes_with_history(session: Session) -> list[str]:
    """`--all`: every spoke with at least one recorded run on this host (nuke deletes a spoke's runs)."""
    query = select(PipelineRun.instance_code).where(PipelineRun.instance_code != catalog.HUB).distinct()
    return sorted(session.scalars(query))


def refuse_unfederatable(session: Session) -> None:
    """Federated spoke deploys need a COMPLETE local hub (§4.7); otherwise refuse before any child starts."""
    state = current_state(session, catalog.HUB).state
    if state != "COMPLETE":
        raise PreconditionError(
            f"the hub is not COMPLETE (state {state}): deploy it first (dive hub deploy) or pass --skip-federation",
            {"hub_state": state},
            remediation="dive hub deploy, or add --skip-federation",
        )


ProgressRow = tuple[str, str, float | None, str]  # code, phase, elapsed seconds (None: not started), result
Display = Callable[[list[ProgressRow]], None]


@dataclass(frozen=True, kw_only=True)
class SpokeJob:
    code: str
    run_id: str
    argv: tuple[str, ...]
    event_log: Path


def child_command(
    code: str,
    run_id: str,
    deploy_options: Sequence[str],
    *,
    global_options: Sequence[str] = (),
    executable: str = sys.executable,
) -> list[str]:
    """`dive --yes --quiet [globals] spoke deploy <c> --run-id <id> [options]` through this interpreter."""
    return [
        executable,
        "-m",
        "dive",
        "--yes",
        "--quiet",
        *global_options,
        "spoke",
        "deploy",
        code,
        "--run-id",
        run_id,
        *deploy_options,
    ]


def plan_jobs(
    codes: Sequence[str], home: Path, deploy_options: Sequence[str], *, global_options: Sequence[str] = ()
) -> list[SpokeJob]:
    """One job per spoke with a fresh run id, hence a known event-log path."""
    jobs = []
    for code in codes:
        run_id = new_run_id()
        argv = child_command(code, run_id, deploy_options, global_options=global_options)
        jobs.append(SpokeJob(code=code, run_id=run_id, argv=tuple(argv), event_log=run_log_path(home, code, run_id)))
    return jobs


@dataclass
class ChildProgress:
    """What the event log has told so far about one child's run."""

    code: str
    phase: str | None = None
    activity: str = "waiting"
    outcome: str | None = None
    final_state: str | None = None
    failed_phase: str | None = None
    error: str | None = None

    def apply(self, event: Event) -> None:
        """Fold one event of §4.6 into the row."""
        kind, phase, data = str(event.get("event")), event.get("phase"), event.get("data")
        facts: Mapping[str, object] = data if isinstance(data, Mapping) else {}
        if kind == "run_started":
            self.activity = "started"
        elif kind == "phase_started":
            self.phase, self.activity = str(phase), "running"
        elif kind in ("substep", "progress"):
            self.activity = str(event.get("message") or f"{facts.get('done')}/{facts.get('total')}")
        elif kind == "phase_completed":
            self.phase, self.activity = str(phase), "done"
        elif kind == "phase_skipped":
            self.phase, self.activity = str(phase), "skipped"
        elif kind == "phase_failed":
            self.phase, self.activity, self.failed_phase = str(phase), "failed", str(phase)
            self.error = str(facts.get("message") or facts.get("error_code") or "failed")
        elif kind == "state_changed" and facts.get("to") == "FAILED":
            self.failed_phase = self.failed_phase or self.phase
        elif kind == "rollback_started":
            self.activity = "rolling back"
        elif kind == "run_finished":
            self.outcome = str(facts.get("outcome") or "") or None
            self.final_state = str(facts.get("final_state") or "") or None


@dataclass(frozen=True, kw_only=True)
class ChildResult:
    code: str
    run_id: str
    exit_code: int | None  # None: never started (cancelled first)
    duration_s: float
    outcome: str | None
    final_state: str | None
    failed_phase: str | None
    message: str
    event_log: Path
    output: str

    @property
    def succeeded(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass(frozen=True, kw_only=True)
class DeployAllReport:
    results: tuple[ChildResult, ...]
    parallel: int
    duration_s: float
    cancelled: bool

    @property
    def exit_code(self) -> int:
        return overall_exit_code([r.exit_code for r in self.results], cancelled=self.cancelled)


def overall_exit_code(child_exit_codes: Sequence[int | None], *, cancelled: bool) -> int:
    """130 when cancelled by a signal; 0 iff every child exited 0; otherwise 1 (§4.7)."""
    if cancelled:
        return EXIT_CANCELLED
    return EXIT_OK if all(code == EXIT_OK for code in child_exit_codes) else EXIT_FAILED


def outcome_message(progress: ChildProgress, output: str, exit_code: int | None) -> str:
    """One line saying how a child ended: a failure's phase error or `✗` line, else the child's last line."""
    if exit_code is None:
        return "not started (cancelled)"
    if exit_code < 0:
        return f"killed by signal {-exit_code}"
    if exit_code == EXIT_CANCELLED:
        return f"cancelled during {progress.phase}" if progress.phase else "cancelled"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if exit_code != EXIT_OK and progress.error:
        return progress.error
    marked = [line.removeprefix("✗").strip() for line in lines if line.startswith("✗")]
    if exit_code != EXIT_OK and marked:
        return marked[0]
    return lines[-1] if lines else f"exit status {exit_code}"


def summary_document(report: DeployAllReport) -> dict[str, object]:
    """`dive.deploy-all/1`: one entry per spoke, in the order given."""
    return {
        "schema": DEPLOY_ALL_SCHEMA,
        "parallel": report.parallel,
        "duration_s": round(report.duration_s, 1),
        "cancelled": report.cancelled,
        "exit_code": report.exit_code,
        "spokes": [
            {
                "code": result.code.upper(),
                "run_id": result.run_id,
                "exit_code": result.exit_code,
                "outcome": result.outcome,
                "final_state": result.final_state,
                "failed_phase": result.failed_phase,
                "duration_s": round(result.duration_s, 1),
                "message": result.message,
                "event_log": str(result.event_log),
            }
            for result in report.results
        ],
    }


class _Child:
    """One running `spoke deploy`: its process, captured output and the tail position in its event log."""

    def __init__(self, job: SpokeJob, environ: Mapping[str, str]) -> None:
        self.job = job
        self.progress = ChildProgress(job.code, activity="starting")
        self.started = time.monotonic()
        self.finished: float | None = None
        self._output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (outlives this call; closed in result())
        self._offset = 0
        self._partial = b""
        self.process = subprocess.Popen(
            job.argv,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal Ctrl-C reaches the parent only; it forwards one signal
        )

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def follow(self) -> None:
        """Apply the complete lines appended to the event log since the last call."""
        try:
            with self.job.event_log.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except FileNotFoundError:  # the log opens after the lock is taken; a refused child never writes one
            return
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:  # whatever one log holds, the parent keeps supervising the others
                continue
            if isinstance(event, dict):
                self.progress.apply(event)

    def poll(self) -> bool:
        """True once the process has exited (its last events read)."""
        if self.process.poll() is None:
            return False
        self.finished = self.finished or time.monotonic()
        self.follow()
        return True

    def result(self) -> ChildResult:
        self._output.seek(0)
        output = self._output.read().decode(errors="replace")
        self._output.close()
        exit_code = self.process.returncode
        return ChildResult(
            code=self.job.code,
            run_id=self.job.run_id,
            exit_code=exit_code,
            duration_s=self.elapsed(),
            outcome=self.progress.outcome,
            final_state=self.progress.final_state,
            failed_phase=self.progress.failed_phase,
            message=outcome_message(self.progress, output, exit_code),
            event_log=self.job.event_log,
            output=output,
        )


@dataclass
class _Fleet:
    """The scheduler's view, handed to the display after every poll."""

    pending: list[SpokeJob]
    running: list[_Child] = field(default_factory=list)
    done: dict[str, ChildResult] = field(default_factory=dict)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def rows(self) -> list[ProgressRow]:
        """(code, phase, elapsed, result) for every spoke: finished, running, then waiting."""
        rows = [(r.code, r.failed_phase or "-", r.duration_s, _result_text(r)) for r in self.done.values()]
        for child in self.running:
            p = child.progress
            rows.append((p.code, p.phase or "-", child.elapsed(), p.activity))
        rows += [(job.code, "-", None, "cancelled" if self.cancelled.is_set() else "waiting") for job in self.pending]
        return rows


def _result_text(result: ChildResult) -> str:
    if result.exit_code is None:
        return "not started"
    if result.succeeded:
        return f"✓ {result.final_state or 'ok'}"
    return f"✗ exit {result.exit_code}" + (f" · {result.final_state}" if result.final_state else "")


def run_deploy_all(
    jobs: Sequence[SpokeJob], *, parallel: int, environ: Mapping[str, str], display: Display
) -> DeployAllReport:
    """Run the jobs, at most `parallel` at a time; SIGINT/SIGTERM are forwarded to the running children."""
    started = time.monotonic()
    fleet = _Fleet(pending=list(jobs))
    with _forwarding_signals(fleet):
        while fleet.pending or fleet.running:
            while fleet.pending and len(fleet.running) < parallel and not fleet.cancelled.is_set():
                fleet.running.append(_Child(fleet.pending.pop(0), environ))
            for child in list(fleet.running):
                if child.poll():
                    fleet.running.remove(child)
                    fleet.done[child.job.code] = child.result()
                else:
                    child.follow()
            display(fleet.rows())
            if fleet.cancelled.is_set() and not fleet.running:
                break
            time.sleep(POLL_S)
    results = [fleet.done.get(job.code) or _never_started(job) for job in jobs]
    return DeployAllReport(
        results=tuple(results),
        parallel=parallel,
        duration_s=time.monotonic() - started,
        cancelled=fleet.cancelled.is_set(),
    )


def _never_started(job: SpokeJob) -> ChildResult:
    return ChildResult(
        code=job.code,
        run_id=job.run_id,
        exit_code=None,
        duration_s=0.0,
        outcome=None,
        final_state=None,
        failed_phase=None,
        message=outcome_message(ChildProgress(job.code), "", None),
        event_log=job.event_log,
        output="",
    )


@contextmanager
def _forwarding_signals(fleet: _Fleet) -> Iterator[None]:
    """Each SIGINT/SIGTERM goes to every running child once (the first cancels, a second aborts, §7.5)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(number: int, _frame: FrameType | None) -> None:
        fleet.cancelled.set()
        for child in fleet.running:
            if child.process.poll() is None:
                child.process.send_signal(number)

    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for child in fleet.running:  # only reached when the loop itself failed: do not leave orphans behind
            child.process.terminate()
            child.process.wait(timeout=_REAP_TIMEOUT_S)
