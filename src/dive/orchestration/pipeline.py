"""The run lifecycle (spec/orchestration.md §4.1): lock, recover, select, record, run each phase under its budget
with a live exit check, and always close the run, write `run_finished` and release the lock.

The decisions are the pure functions of `dive.orchestration.phases`; this module does the I/O.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.breakers import refuse_open_breakers, update_breaker
from dive.orchestration.crash import crash_at
from dive.orchestration.error_records import CRITICAL, HIGH, MEDIUM, record_error, resolve_errors
from dive.orchestration.errors import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    OrchestrationError,
    PhaseError,
    PreconditionError,
    RunCancelledError,
)
from dive.orchestration.events import Event, EventLog, new_run_id, run_log_path
from dive.orchestration.locks import acquire_deploy_lock
from dive.orchestration.phases import Check, Phase, PlannedStep, Selection, next_phase, plan_phases
from dive.orchestration.recovery import recover_instance
from dive.orchestration.run_records import close_run, insert_run, latest_checkpoints, update_step
from dive.orchestration.states import current_state, transition
from dive.store.engine import writer_session_factory
from dive.store.models.base import utc_now

__all__ = [
    "DEFAULT_BREAKER_COOLDOWN_S",
    "DryRunLine",
    "DryRunReport",
    "PhaseContext",
    "Pipeline",
    "RunRequest",
    "RunResult",
    "StepOutcome",
    "dry_run",
]

log = logging.getLogger(__name__)

DEFAULT_BREAKER_COOLDOWN_S: Final = 60.0
_JOIN_POLL_S: Final = 0.1
_ADVANCING_KINDS: Final = ("full", "resume")


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    pipeline: str  # "hub" or "spoke": the first part of crash-point names (§13.3)
    command: str  # e.g. "spoke deploy fra"
    code: str  # lower case
    selection: Selection
    args: Mapping[str, object] = field(default_factory=dict)
    wait_lock_s: float = 0.0
    force: bool = False  # bypass open circuit breakers (a warning event)
    run_id: str | None = None


@dataclass(frozen=True)
class StepOutcome:
    phase: str
    status: str  # COMPLETED, SKIPPED or FAILED
    duration_s: float
    summary: str


@dataclass(frozen=True)
class RunResult:
    run_id: str | None  # None: nothing was run (nothing to resume)
    outcome: str
    final_state: str
    failed_phase: str | None
    exit_code: int
    duration_s: float
    steps: tuple[StepOutcome, ...]
    event_log: Path | None
    message: str


class PhaseContext:
    """What a phase sees: the instance, its run, events, crash points and cancellation points."""

    def __init__(
        self,
        *,
        home: Path,
        code: str,
        run_id: str | None,
        environ: Mapping[str, str],
        pipeline: str,
        emit: Callable[..., object],
        cancelled: Callable[[], bool],
    ) -> None:
        self.home, self.code, self.run_id, self.environ, self.pipeline = home, code, run_id, environ, pipeline
        self.phase: Phase | None = None
        self._emit, self._cancelled = emit, cancelled

    def substep(self, message: str, **data: object) -> None:
        self._emit("substep", phase=self.phase.name if self.phase else None, message=message, data=data or None)

    def warn(self, message: str) -> None:
        self._emit("warning", phase=self.phase.name if self.phase else None, message=message)

    def check_cancelled(self) -> None:
        """A cancellation point: raises `RunCancelledError` once the run is cancelled or the phase abandoned."""
        if self._cancelled():
            raise RunCancelledError("cancelled at a cancellation point")

    def crash_point(self, point: str) -> None:
        """`<pipeline>:<PHASE>:<point>` (§13.3); the phase must declare `point` in its `crash_points`."""
        assert self.phase is not None and point in self.phase.crash_points, f"undeclared crash point {point}"
        crash_at(f"{self.pipeline}:{self.phase.name}:{point}", self.environ)


class _Cancellation:
    """First SIGINT/SIGTERM: cancel at the next cancellation point. Second: exit 130 at once (§7.5)."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self._handle) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.requested.is_set():
            os._exit(EXIT_CANCELLED)  # the kernel or the server frees the guard; the next run recovers
        self.requested.set()
        print("Cancelling after the current step… (Ctrl-C again to abort immediately)", file=sys.stderr, flush=True)


class Pipeline:
    """Runs a sequence of phases for one instance, recording everything in the orchestration database."""

    def __init__(
        self,
        phases: Sequence[Phase],
        *,
        home: Path,
        engine: Engine,
        environ: Mapping[str, str],
        listeners: tuple[Callable[[Event], None], ...] = (),
    ) -> None:
        self.phases = tuple(phases)
        self.home, self.engine, self.environ, self.listeners = home, engine, environ, listeners
        self._by_name = {phase.name: phase for phase in self.phases}
        self._sessions: sessionmaker[Session] = writer_session_factory(engine)

    def run(self, request: RunRequest) -> RunResult:
        """Steps 3–11 of §4.1. Refusals raise (`LockHeldError`, `PreconditionError`, `BreakerOpenError`: exit 2)."""
        run_id = request.run_id or new_run_id()
        lock = acquire_deploy_lock(
            self.engine, self.home, request.code, run_id=run_id, command=request.command, wait_s=request.wait_lock_s
        )
        try:
            recover_instance(self._sessions, request.code, run_id=None)
            nothing = self._nothing_to_resume(request)
            if nothing is not None:
                return nothing
            plan = self._plan(request, self._context(request, run_id, _silent, lambda: False))
            self._refuse_open_breakers(request, plan)
            return self._execute(request, run_id, plan, release=lock.release)
        finally:
            lock.release()

    def check(self, request: RunRequest) -> list[tuple[str, Check]]:
        """The live checks of every phase, read-only, in order (for `phases` and dry runs)."""
        context = self._context(request, None, _silent, lambda: False)
        return [(phase.name, self._is_complete(phase, context)) for phase in self.phases]

    def _context(
        self, request: RunRequest, run_id: str | None, emit: Callable[..., object], cancelled: Callable[[], bool]
    ) -> PhaseContext:
        return PhaseContext(
            home=self.home,
            code=request.code,
            run_id=run_id,
            environ=self.environ,
            pipeline=request.pipeline,
            emit=emit,
            cancelled=cancelled,
        )

    def _nothing_to_resume(self, request: RunRequest) -> RunResult | None:
        if request.selection.kind != "resume" or request.selection.from_phase:
            return None
        with self._sessions() as session:
            state = current_state(session, request.code)
        if state.state != "COMPLETE":
            return None
        message = (
            f"Nothing to resume: {request.code.upper()} is COMPLETE (run {state.run_id}). "
            f"Use 'dive {request.command}' to redeploy."
        )
        return RunResult(None, "SUCCEEDED", "COMPLETE", None, EXIT_OK, 0.0, (), None, message)

    def _plan(self, request: RunRequest, context: PhaseContext) -> list[PlannedStep]:
        selection = request.selection
        validity: dict[str, Check] = {}
        if selection.kind == "resume" and selection.from_phase:
            validity = self._from_phase_prerequisites(selection.from_phase, context)
        elif selection.kind == "resume":
            validity = self._valid_checkpoints(request.code, context)
        return plan_phases(self.phases, selection, validity)

    def _valid_checkpoints(self, code: str, context: PhaseContext) -> dict[str, Check]:
        """Checkpoints validated live in phase order, up to the first invalid one (the resume point, §4.2)."""
        with self._sessions() as session:
            checkpoints = latest_checkpoints(session, code)
        validity: dict[str, Check] = {}
        for phase in self.phases:
            if phase.always_runs:
                continue
            checkpoint = checkpoints.get(phase.name)
            if checkpoint is None or not checkpoint.is_valid_record:
                validity[phase.name] = Check(False, "no checkpoint")
                break
            live = self._is_complete(phase, context)
            validity[phase.name] = Check(
                live.ok, f"valid checkpoint (run {checkpoint.run_id})" if live.ok else live.reason
            )
            if not live.ok:
                break
        return validity

    def _from_phase_prerequisites(self, from_phase: str, context: PhaseContext) -> dict[str, Check]:
        validity: dict[str, Check] = {}
        for phase in self.phases:
            if phase.name == from_phase:
                break
            if phase.name == "PREFLIGHT":
                continue
            check = self._is_complete(phase, context)
            if not check.ok:
                raise PreconditionError(
                    f"--from-phase {from_phase}: phase {phase.name} is not complete ({check.reason}); "
                    f"resume with --resume or start from {phase.name}",
                    {"phase": phase.name, "reason": check.reason},
                )
            validity[phase.name] = check
        return validity

    def _refuse_open_breakers(self, request: RunRequest, plan: Sequence[PlannedStep]) -> None:
        if request.force:
            return
        cooldown = float(self.environ.get("DIVE_BREAKER_COOLDOWN_S") or DEFAULT_BREAKER_COOLDOWN_S)
        with self._sessions() as session:
            phases = [step.phase for step in plan if step.action == "run"]
            refuse_open_breakers(session, request.code, phases, now=utc_now(), cooldown_s=cooldown)

    def _is_complete(self, phase: Phase, context: PhaseContext) -> Check:
        context.phase = phase
        return phase.is_complete(context)

    def _execute(
        self, request: RunRequest, run_id: str, plan: Sequence[PlannedStep], *, release: Callable[[], None]
    ) -> RunResult:
        path = run_log_path(self.home, request.code, run_id)
        with self._sessions() as session:
            insert_run(
                session,
                run_id=run_id,
                code=request.code,
                command=request.command,
                kind=request.selection.kind,
                args=request.args,
                plan=plan,
                event_log=str(path),
            )
        events = EventLog(path, run_id=run_id, instance=request.code, listeners=self.listeners)
        try:
            return _Run(self, request, run_id, plan, events).drive(release)
        finally:
            events.close()


def _silent(*_args: object, **_fields: object) -> None:
    """The event sink of read-only checks outside a run."""


class _Run:
    """One recorded run: the loop of §4.1 steps 7–11."""

    def __init__(
        self, pipeline: Pipeline, request: RunRequest, run_id: str, plan: Sequence[PlannedStep], events: EventLog
    ) -> None:
        self.pipeline, self.request, self.run_id, self.plan, self.events = pipeline, request, run_id, plan, events
        self.code = request.code
        self.cancellation = _Cancellation()
        self.abandoned = threading.Event()
        self.context = pipeline._context(request, run_id, events.emit, self._cancelled)
        self.steps: list[StepOutcome] = []
        self.outcome, self.exit_code, self.failed_phase, self.message = "SUCCEEDED", EXIT_OK, None, ""
        self.sessions = pipeline._sessions
        self.started = time.monotonic()

    def _cancelled(self) -> bool:
        return self.cancellation.requested.is_set() or self.abandoned.is_set()

    def drive(self, release: Callable[[], None]) -> RunResult:
        self.events.emit(
            "run_started",
            data={
                "command": self.request.command,
                "kind": self.request.selection.kind,
                "args": dict(self.request.args),
                "pid": os.getpid(),
            },
        )
        self.events.emit("lock_acquired", data={"lock": f"deploy:{self.code}"})
        if self.request.force:
            self.events.emit("warning", message="--force: open circuit breakers are bypassed")
        with self.cancellation.installed():
            self._loop()
        with self.sessions() as session:
            final_state = current_state(session, self.code).state
            duration = close_run(
                session, self.run_id, outcome=self.outcome, final_state=final_state, failed_phase=self.failed_phase
            )
            session.commit()
        release()
        self.events.emit("lock_released")
        self.events.emit(
            "run_finished", duration_s=round(duration, 3), data={"outcome": self.outcome, "final_state": final_state}
        )
        return RunResult(
            self.run_id,
            self.outcome,
            final_state,
            self.failed_phase,
            self.exit_code,
            duration,
            tuple(self.steps),
            self.events.path,
            self.message or f"{self.code.upper()} is {final_state}",
        )

    def _loop(self) -> None:
        advancing = self.request.selection.kind in _ADVANCING_KINDS
        try:
            if advancing:
                self._set_state("INITIALIZING", f"{self.request.command} started")
            statuses: dict[str, str] = {}
            while (step := next_phase(self.plan, statuses)) is not None:
                self.context.check_cancelled()
                statuses[step.phase] = self._step(step, advancing)
                if statuses[step.phase] == "FAILED" and self.exit_code != EXIT_OK:
                    return
            if advancing:
                self._complete()
        except RunCancelledError:
            self._cancel()
        except OrchestrationError as exc:  # a rejected transition outside a phase
            self._fail_run(None, exc)

    def _step(self, step: PlannedStep, advancing: bool) -> str:
        phase = self.pipeline._by_name[step.phase]
        if step.action == "skip":
            with self.sessions.begin() as session:
                update_step(
                    session,
                    self.run_id,
                    phase.name,
                    status="SKIPPED",
                    skip_reason=step.skip_reason,
                    detail={"reason": step.note},
                )
            self.events.emit("phase_skipped", phase=phase.name, data={"reason": step.note})
            self.steps.append(StepOutcome(phase.name, "SKIPPED", 0.0, step.note))
            return "SKIPPED"
        started = time.monotonic()
        try:
            if advancing:
                self._set_state(phase.state, f"phase {phase.name}")
            summary = self._run_phase(phase)
        except RunCancelledError:
            self._finish_step(phase, "FAILED", started, error_code="RUN_CANCELLED", message="cancelled")
            raise
        except OrchestrationError as exc:
            self._phase_failed(phase, started, exc)
            return "FAILED"
        except Exception as exc:  # the phase's own bug: recorded like any failure, with the traceback logged
            log.exception("phase crashed", extra={"run_id": self.run_id, "phase": phase.name})
            self._phase_failed(phase, started, PhaseError("phase_failed", f"{phase.name} crashed: {exc!r}"))
            return "FAILED"
        self._finish_step(phase, "COMPLETED", started, summary=summary)
        return "COMPLETED"

    def _run_phase(self, phase: Phase) -> str:
        self.context.phase = phase
        crash_at(f"{self.request.pipeline}:{phase.name}:before", self.pipeline.environ)
        with self.sessions.begin() as session:
            update_step(session, self.run_id, phase.name, status="IN_PROGRESS", attempts=1, started_at=utc_now())
        self.events.emit("phase_started", phase=phase.name, message=phase.title)
        summary = self._within_budget(phase)
        check = phase.is_complete(self.context)
        if not check.ok:  # the exit criterion is a live check, never the phase's own word (§4.1 step 8)
            raise PhaseError("phase_exit_check_failed", f"{phase.name} ran but its live check fails: {check.reason}")
        return summary or check.reason

    def _within_budget(self, phase: Phase) -> str | None:
        result: dict[str, object] = {}

        def target() -> None:
            try:
                result["summary"] = phase.run(self.context)
            except BaseException as exc:  # handed to the driver thread, which records it
                result["error"] = exc

        self.abandoned.clear()
        worker = threading.Thread(target=target, name=f"phase {phase.name}", daemon=True)
        worker.start()
        deadline = time.monotonic() + phase.budget_s
        while worker.is_alive():
            worker.join(_JOIN_POLL_S)
            if worker.is_alive() and time.monotonic() > deadline:
                self.abandoned.set()  # it stops at its next cancellation point; the run goes on without it
                raise PhaseError("phase_timeout", f"{phase.name} exceeded its budget of {phase.budget_s:g} s")
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        summary = result.get("summary")
        return summary if isinstance(summary, str) else None

    def _finish_step(
        self,
        phase: Phase,
        status: str,
        started: float,
        *,
        summary: str = "",
        error_code: str | None = None,
        message: str | None = None,
    ) -> float:
        duration = round(time.monotonic() - started, 3)
        with self.sessions.begin() as session:
            update_step(
                session,
                self.run_id,
                phase.name,
                status=status,
                finished_at=utc_now(),
                duration_s=duration,
                error_code=error_code,
                error_message=message,
                detail={"summary": summary} if summary else None,
            )
            if status == "COMPLETED":
                update_breaker(
                    session, self.code, phase.name, failed=False, error_code=None, now=utc_now(), run_id=self.run_id
                )
        if status == "COMPLETED":
            self.events.emit("phase_completed", phase=phase.name, duration_s=duration, data={"summary": summary})
        self.steps.append(StepOutcome(phase.name, status, duration, summary or message or ""))
        return duration

    def _phase_failed(self, phase: Phase, started: float, exc: OrchestrationError) -> None:
        code = exc.record_code
        self._finish_step(phase, "FAILED", started, error_code=code, message=exc.message)
        with self.sessions.begin() as session:
            record_error(
                session,
                code,
                CRITICAL if phase.fatal else MEDIUM,
                exc.message,
                instance_code=self.code,
                run_id=self.run_id,
                phase=phase.name,
                remediation=exc.remediation,
                context=exc.detail,
            )
            update_breaker(
                session, self.code, phase.name, failed=True, error_code=code, now=utc_now(), run_id=self.run_id
            )
        self.events.emit("phase_failed", phase=phase.name, data={"error_code": code, "message": exc.message})
        if phase.fatal:
            self._fail_run(phase, exc)
        else:
            self.events.emit("warning", phase=phase.name, message=f"{phase.name} failed (not fatal): {exc.message}")

    def _fail_run(self, phase: Phase | None, exc: OrchestrationError) -> None:
        self.outcome, self.exit_code = "FAILED", EXIT_FAILED
        self.failed_phase = phase.name if phase else None
        self.message = f"{phase.name if phase else 'run'} failed: {exc.message}"
        where = phase.name if phase else "the run"
        self._set_state("FAILED", f"{exc.record_code} in {where}", {"failed_phase": self.failed_phase})

    def _cancel(self) -> None:
        self.outcome, self.exit_code = "CANCELLED", EXIT_CANCELLED
        running = self.steps[-1].phase if self.steps and self.steps[-1].status == "FAILED" else None
        self.failed_phase = running
        with self.sessions.begin() as session:
            record_error(
                session,
                "RUN_CANCELLED",
                HIGH,
                f"run {self.run_id} was cancelled by a signal",
                instance_code=self.code,
                run_id=self.run_id,
                phase=running,
                remediation=f"dive {self.request.command} --resume",
            )
        self._set_state("FAILED", f"cancelled during {running or 'the run'}")
        self.message = "Cancelled."

    def _complete(self) -> None:
        self._set_state("VERIFYING", "verification passed")
        self._set_state("COMPLETE", f"{self.request.command} completed")
        with self.sessions.begin() as session:
            resolve_errors(session, self.code, run_id=self.run_id)

    def _set_state(self, state: str, reason: str, metadata: Mapping[str, object] | None = None) -> None:
        with self.sessions() as session:
            before = current_state(session, self.code).state
            after = transition(session, self.code, state, run_id=self.run_id, reason=reason, metadata=metadata)
        if after.state != before:
            self.events.emit("state_changed", data={"from": before, "to": after.state, "reason": reason})


@dataclass(frozen=True)
class DryRunLine:
    phase: str
    verdict: str  # "passed" / "failed" (PREFLIGHT, run for real), "would run", "would skip"
    reason: str
    plan: tuple[str, ...]


@dataclass(frozen=True)
class DryRunReport:
    lines: tuple[DryRunLine, ...]
    exit_code: int  # 0 when PREFLIGHT passes (§4.2)


def dry_run(phases: Sequence[Phase], request: RunRequest, *, home: Path, environ: Mapping[str, str]) -> DryRunReport:
    """Plan only (§4.2): no lock, no database writes, no process. PREFLIGHT runs for real (its checks only read);
    every other selected phase says `would run` or `would skip (already complete: …)` plus its `plan()` lines."""
    context = PhaseContext(
        home=home,
        code=request.code,
        run_id=None,
        environ=environ,
        pipeline=request.pipeline,
        emit=_silent,
        cancelled=lambda: False,
    )
    wanted = {step.phase for step in plan_phases(phases, request.selection, {})}
    lines, exit_code = [], EXIT_OK
    for phase in phases:
        if phase.name not in wanted:
            continue
        context.phase = phase
        if phase.name == "PREFLIGHT":
            try:
                summary = phase.run(context) or "passed"
            except OrchestrationError as exc:
                lines.append(DryRunLine(phase.name, "failed", exc.message, ()))
                exit_code = EXIT_FAILED
            else:
                lines.append(DryRunLine(phase.name, "passed", summary, ()))
            continue
        if phase.name in request.selection.skip:
            lines.append(DryRunLine(phase.name, "would skip", "skipped by --skip-phase", ()))
            continue
        check = phase.is_complete(context)
        if check.ok and not phase.always_runs:
            lines.append(DryRunLine(phase.name, "would skip", f"already complete: {check.reason}", ()))
        else:
            lines.append(DryRunLine(phase.name, "would run", check.reason, tuple(phase.plan(context))))
    return DryRunReport(tuple(lines), exit_code)
