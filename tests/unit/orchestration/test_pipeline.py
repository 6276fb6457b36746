"""The run lifecycle (orchestration §4.1–§4.2, §4.6, §7) driven with the toy pipeline's real phases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.errors import BreakerOpenError, PreconditionError, UsageError
from dive.orchestration.phases import PlannedStep, next_phase
from dive.orchestration.pipeline import Pipeline, dry_run
from dive.orchestration.states import current_state
from dive.store.models.orchestration import DeploymentLock, DeploymentStep, ErrorRecord, PipelineRun

from .toy_pipeline import toy_phases, toy_request

TOY_SCRIPT = Path(__file__).with_name("toy_pipeline.py")


def _pipeline(engine: Engine, home: Path, **environ: str) -> Pipeline:
    return Pipeline(toy_phases(budget_s=float(environ.pop("BUDGET", "30"))), home=home, engine=engine, environ=environ)


def _steer(home: Path, phase: str, how: str) -> Path:
    marker = home / "toy" / f"{phase}.{how}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(how)
    return marker


def _steps(sessions: sessionmaker[Session], run_id: str | None) -> dict[str, tuple[str, str | None]]:
    with sessions() as session:
        rows = session.scalars(select(DeploymentStep).where(DeploymentStep.run_id == run_id))
        return {row.phase: (row.status, row.skip_reason or row.error_code) for row in rows}


def _errors(sessions: sessionmaker[Session]) -> list[tuple[str, int, bool]]:
    with sessions() as session:
        return [(e.error_code, e.severity, e.resolved) for e in session.scalars(select(ErrorRecord).order_by("id"))]


def _state(sessions: sessionmaker[Session], code: str = "fra") -> str:
    with sessions() as session:
        return current_state(session, code).state


def _events(path: Path | None) -> list[dict[str, object]]:
    assert path is not None
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_full_run_completes_every_phase_and_logs_each_event(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    result = _pipeline(engine, dive_home).run(toy_request())

    assert (result.exit_code, result.outcome, result.final_state) == (0, "SUCCEEDED", "COMPLETE")
    assert set(_steps(sessions, result.run_id).values()) == {("COMPLETED", None)}
    events = _events(result.event_log)
    assert [event["event"] for event in events].count("phase_completed") == 6
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert result.event_log == dive_home / "instances" / "fra" / "runs" / f"{result.run_id}.jsonl"
    with sessions() as session:
        run = session.get_one(PipelineRun, result.run_id)
        lock = session.scalars(select(DeploymentLock)).one()
    assert (run.outcome, run.final_state, run.kind) == ("SUCCEEDED", "COMPLETE", "full")
    assert lock.release_reason == "normal"


def test_redeploy_of_a_complete_instance_goes_through_initializing_again_without_errors(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    pipeline = _pipeline(engine, dive_home)
    pipeline.run(toy_request())

    again = pipeline.run(toy_request())

    assert again.final_state == "COMPLETE" and _errors(sessions) == []
    transitions = [event["data"] for event in _events(again.event_log) if event["event"] == "state_changed"]
    assert transitions[0] == {"from": "COMPLETE", "to": "INITIALIZING", "reason": "spoke deploy fra started"}


def test_fatal_phase_failure_fails_the_run_and_leaves_later_phases_pending(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    _steer(dive_home, "DATABASE", "fail")

    result = _pipeline(engine, dive_home).run(toy_request())

    assert (result.exit_code, result.outcome, result.final_state, result.failed_phase) == (
        1,
        "FAILED",
        "FAILED",
        "DATABASE",
    )
    steps = _steps(sessions, result.run_id)
    assert steps["DATABASE"] == ("FAILED", "TOY_FAILED")
    assert steps["SEEDING"] == steps["VERIFICATION"] == ("PENDING", None)
    assert _errors(sessions) == [("TOY_FAILED", 1, False)]


def test_phase_whose_live_check_fails_after_running_fails_with_exit_check_failed(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    _steer(dive_home, "INITIALIZATION", "noop")

    result = _pipeline(engine, dive_home).run(toy_request())

    assert result.exit_code == 1
    assert _steps(sessions, result.run_id)["INITIALIZATION"] == ("FAILED", "PHASE_EXIT_CHECK_FAILED")


def test_non_fatal_failure_still_completes_with_an_open_medium_error(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    _steer(dive_home, "SEEDING", "fail")

    result = _pipeline(engine, dive_home).run(toy_request())

    assert (result.exit_code, result.final_state) == (0, "COMPLETE")
    assert _errors(sessions) == [("TOY_FAILED", 3, False)]
    assert "warning" in [event["event"] for event in _events(result.event_log)]


def test_resume_skips_valid_checkpoints_and_resolves_the_earlier_errors(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    pipeline = _pipeline(engine, dive_home)
    failing = _steer(dive_home, "DATABASE", "fail")
    pipeline.run(toy_request())
    failing.unlink()

    result = pipeline.run(toy_request(resume=True))

    steps = _steps(sessions, result.run_id)
    assert (result.exit_code, result.final_state) == (0, "COMPLETE")
    assert steps["PREFLIGHT"] == ("COMPLETED", None)
    assert steps["INITIALIZATION"] == ("SKIPPED", "checkpoint")
    assert steps["DATABASE"] == steps["SEEDING"] == ("COMPLETED", None)
    assert _errors(sessions) == [("TOY_FAILED", 1, True)]


def test_resume_reruns_a_checkpointed_phase_whose_live_check_fails_and_every_later_phase(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    pipeline = _pipeline(engine, dive_home)
    failing = _steer(dive_home, "SEEDING", "fail")
    _steer(dive_home, "VERIFICATION", "fail")
    pipeline.run(toy_request())
    failing.unlink()
    (dive_home / "toy" / "VERIFICATION.fail").unlink()
    (dive_home / "toy" / "INITIALIZATION.done").unlink()  # the checkpoint is poisoned: reality disagrees

    result = pipeline.run(toy_request(resume=True))

    steps = _steps(sessions, result.run_id)
    assert result.final_state == "COMPLETE"
    assert {phase: status for phase, (status, _) in steps.items()} == dict.fromkeys(
        ("PREFLIGHT", "INITIALIZATION", "DATABASE", "CONFIGURATION", "SEEDING", "VERIFICATION"), "COMPLETED"
    )


def test_resume_of_a_complete_instance_has_nothing_to_do(engine: Engine, dive_home: Path):
    pipeline = _pipeline(engine, dive_home)
    pipeline.run(toy_request())

    result = pipeline.run(toy_request(resume=True))

    assert (result.exit_code, result.run_id) == (0, None)
    assert result.message.startswith("Nothing to resume: FRA is COMPLETE")


def test_from_phase_with_an_incomplete_prerequisite_is_refused_and_records_no_run(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    with pytest.raises(PreconditionError, match="INITIALIZATION is not complete") as err:
        _pipeline(engine, dive_home).run(toy_request(from_phase="database"))

    assert err.value.exit_code == 2
    with sessions() as session:
        assert session.scalars(select(PipelineRun)).all() == []


def test_only_phase_runs_preflight_and_that_phase_without_moving_the_state(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    result = _pipeline(engine, dive_home).run(toy_request(only_phase="DATABASE"))

    assert set(_steps(sessions, result.run_id)) == {"PREFLIGHT", "DATABASE"}
    assert (result.exit_code, result.final_state) == (0, "UNKNOWN")


def test_skip_phase_skips_an_optional_phase_by_flag_and_refuses_a_mandatory_one(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    result = _pipeline(engine, dive_home).run(toy_request(skip=["seeding"]))

    assert _steps(sessions, result.run_id)["SEEDING"] == ("SKIPPED", "flag")
    assert result.final_state == "COMPLETE"
    with pytest.raises(UsageError, match="only optional phases") as err:
        toy_request(skip=["DATABASE"])
    assert err.value.exit_code == 2


def test_only_phase_together_with_from_phase_is_a_usage_error():
    with pytest.raises(UsageError, match="--only-phase excludes"):
        toy_request(only_phase="DATABASE", from_phase="DATABASE")


def test_phase_over_its_budget_fails_with_phase_timeout(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    hang = _steer(dive_home, "DATABASE", "hang")
    try:
        result = _pipeline(engine, dive_home, BUDGET="0.5").run(toy_request())
    finally:
        hang.unlink()

    assert result.exit_code == 1
    assert _steps(sessions, result.run_id)["DATABASE"] == ("FAILED", "PHASE_TIMEOUT")


def test_three_consecutive_failures_open_the_breaker_and_force_bypasses_it(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    pipeline = _pipeline(engine, dive_home)
    failing = _steer(dive_home, "DATABASE", "fail")
    for _ in range(3):
        pipeline.run(toy_request())

    with pytest.raises(BreakerOpenError, match="Circuit open for FRA/DATABASE: failed 3 times") as err:
        pipeline.run(toy_request())
    failing.unlink()
    forced = pipeline.run(replace(toy_request(), force=True))

    assert err.value.exit_code == 2
    assert forced.final_state == "COMPLETE"
    assert ("BREAKER_OPENED", 2, True) in _errors(sessions)


def test_breaker_after_its_cool_down_lets_one_run_through(engine: Engine, dive_home: Path):
    pipeline = _pipeline(engine, dive_home, DIVE_BREAKER_COOLDOWN_S="0")
    failing = _steer(dive_home, "DATABASE", "fail")
    for _ in range(3):
        pipeline.run(toy_request())
    failing.unlink()

    assert pipeline.run(toy_request()).final_state == "COMPLETE"


def test_dry_run_runs_preflight_and_plans_the_rest_without_writing(dive_home: Path):
    _steer(dive_home, "INITIALIZATION", "noop")
    (dive_home / "toy" / "INITIALIZATION.done").write_text("done")

    report = dry_run(toy_phases(), toy_request(), home=dive_home, environ={})

    verdicts = {line.phase: line.verdict for line in report.lines}
    assert report.exit_code == 0
    assert verdicts == {
        "PREFLIGHT": "passed",
        "INITIALIZATION": "would skip",
        "DATABASE": "would run",
        "CONFIGURATION": "would run",
        "SEEDING": "would run",
        "VERIFICATION": "would run",
    }
    assert not (dive_home / "toy" / "DATABASE.done").exists()
    assert not (dive_home / "orchestration.db").exists()


def test_dry_run_with_a_failing_preflight_exits_1(dive_home: Path):
    _steer(dive_home, "PREFLIGHT", "fail")

    assert dry_run(toy_phases(), toy_request(), home=dive_home, environ={}).exit_code == 1


def test_next_phase_is_the_first_step_still_pending():
    plan = [PlannedStep("PREFLIGHT", 1, "run"), PlannedStep("DATABASE", 3, "run")]

    assert next_phase(plan, {"PREFLIGHT": "COMPLETED"}) == plan[1]
    assert next_phase(plan, {"PREFLIGHT": "COMPLETED", "DATABASE": "FAILED"}) is None


def _run_script(database_url: str, home: Path, *flags: str, **environ: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(TOY_SCRIPT), database_url, str(home), "fra", *flags],
        env={**os.environ, **environ},
    )


def test_crash_point_kills_the_run_and_resume_recovers_it(
    database_url: str, engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    crashed = _run_script(
        database_url,
        dive_home,
        DIVE_TEST_HOOKS="1",
        DIVE_TEST_CRASH_AT="spoke:INITIALIZATION:after_marker",
    )
    assert crashed.wait(timeout=60) == -signal.SIGKILL

    result = _pipeline(engine, dive_home).run(toy_request(resume=True))

    with sessions() as session:
        dead = session.scalars(select(PipelineRun).where(PipelineRun.run_id != result.run_id)).one()
        locks = [row.release_reason for row in session.scalars(select(DeploymentLock).order_by(DeploymentLock.id))]
    assert (dead.outcome, dead.failed_phase) == ("INTERRUPTED", "INITIALIZATION")
    assert _steps(sessions, dead.run_id)["INITIALIZATION"] == ("FAILED", "RUN_INTERRUPTED")
    assert locks == ["stale", "normal"]
    assert ("RUN_INTERRUPTED", 2, True) in _errors(sessions) and ("LOCK_STALE_CLEANED", 2, True) in _errors(sessions)
    assert (result.exit_code, result.final_state) == (0, "COMPLETE")


def test_crash_point_is_ignored_without_test_hooks(database_url: str, dive_home: Path):
    run = _run_script(database_url, dive_home, DIVE_TEST_CRASH_AT="spoke:INITIALIZATION:after_marker")

    assert run.wait(timeout=60) == 0


def test_sigterm_cancels_the_run_records_failed_and_exits_130(
    database_url: str, dive_home: Path, sessions: sessionmaker[Session]
):
    hang = _steer(dive_home, "DATABASE", "hang")
    run = _run_script(database_url, dive_home)
    runs = dive_home / "instances" / "fra" / "runs"
    deadline = time.monotonic() + 60
    while not any('"phase_started", "phase": "DATABASE"' in p.read_text() for p in runs.glob("*.jsonl")):
        assert time.monotonic() < deadline and run.poll() is None, "the run never reached DATABASE"
        time.sleep(0.1)
    run.send_signal(signal.SIGTERM)

    assert run.wait(timeout=60) == 130
    hang.unlink()
    with sessions() as session:
        record = session.scalars(select(PipelineRun)).one()
        lock = session.scalars(select(DeploymentLock)).one()
    assert (record.outcome, record.final_state, record.failed_phase) == ("CANCELLED", "FAILED", "DATABASE")
    assert lock.release_reason == "normal"
    assert ("RUN_CANCELLED", 2, False) in _errors(sessions)
