"""`phases` and `history` (orchestration §2.2, §4.2, §11.2) read back from runs of the toy pipeline's real phases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.phases import Check
from dive.orchestration.pipeline import Pipeline
from dive.orchestration.run_history import (
    StepRecord,
    history_document,
    inspect_phases,
    phase_rows,
    phases_document,
    recent_runs,
    resume_point_of,
)

from .toy_pipeline import toy_phases, toy_request


def _deploy(engine: Engine, home: Path, **selection: object) -> str:
    result = Pipeline(toy_phases(), home=home, engine=engine, environ={}).run(toy_request(**selection))
    assert result.run_id is not None
    return result.run_id


def _inspect(engine: Engine | None, home: Path) -> list:
    return inspect_phases(toy_phases(), engine, home=home, code="fra", environ={}, pipeline="spoke")


def test_phases_after_a_clean_deploy_are_all_completed_with_valid_checkpoints(engine: Engine, tmp_path: Path):
    run_id = _deploy(engine, tmp_path)

    rows = _inspect(engine, tmp_path)
    document = phases_document("fra", toy_phases(), rows, timing=True)

    assert {row.last_status for row in rows} == {"COMPLETED"} and {row.last_run_id for row in rows} == {run_id}
    assert [row.checkpoint_valid for row in rows] == [None, True, True, True, True, None]
    assert document["resume_point"] is None and document["schema"] == "dive.phases/1"
    assert all(len(phase["timing_s"]) == 1 for phase in document["phases"])


def test_a_checkpoint_whose_live_check_fails_is_invalid_and_becomes_the_resume_point(engine: Engine, tmp_path: Path):
    _deploy(engine, tmp_path)
    (tmp_path / "toy" / "DATABASE.done").unlink()

    rows = _inspect(engine, tmp_path)

    database = next(row for row in rows if row.phase == "DATABASE")
    assert database.checkpoint_valid is False and database.reason == "marker missing"
    assert resume_point_of(toy_phases(), rows) == "DATABASE"


def test_phases_without_an_orchestration_database_show_no_checkpoint_and_resume_at_the_first_phase(tmp_path: Path):
    rows = _inspect(None, tmp_path)
    assert [row.reason for row in rows][1:3] == ["no checkpoint", "no checkpoint"]
    assert resume_point_of(toy_phases(), rows) == "INITIALIZATION"


def test_a_failed_last_step_is_no_checkpoint_and_timing_keeps_the_last_five_executions():
    steps = {"DATABASE": [StepRecord(f"r{i}", "FAILED" if i == 0 else "COMPLETED", None, float(i)) for i in range(7)]}

    rows = phase_rows(toy_phases(), steps, {"DATABASE": Check(True, "fine")})

    database = next(row for row in rows if row.phase == "DATABASE")
    assert database.checkpoint_valid is False and database.reason == "last step FAILED"
    assert database.timing == (0.0, 1.0, 2.0, 3.0, 4.0)


def test_a_skip_on_checkpoint_counts_as_a_checkpoint_but_not_as_a_timing():
    steps = {"DATABASE": [StepRecord("r2", "SKIPPED", "checkpoint", 0.0), StepRecord("r1", "COMPLETED", None, 2.5)]}

    [database] = [
        row for row in phase_rows(toy_phases(), steps, {"DATABASE": Check(True, "ok")}) if row.phase == "DATABASE"
    ]

    assert database.checkpoint_valid is True and database.timing == (2.5,)


def test_history_lists_runs_newest_first_with_kind_outcome_and_failed_phase(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
):
    first = _deploy(engine, tmp_path)
    (tmp_path / "toy" / "CONFIGURATION.fail").parent.mkdir(exist_ok=True)
    (tmp_path / "toy" / "CONFIGURATION.fail").write_text("fail")
    second = _deploy(engine, tmp_path, from_phase="CONFIGURATION")

    with sessions() as session:
        runs = recent_runs(session, "fra", 10)
        limited = recent_runs(session, "fra", 1)
    document = history_document("fra", runs)

    assert [run.run_id for run in runs] == [second, first] and [run.run_id for run in limited] == [second]
    assert (runs[0].kind, runs[0].outcome, runs[0].final_state, runs[0].failed_phase) == (
        "resume",
        "FAILED",
        "FAILED",
        "CONFIGURATION",
    )
    assert document["schema"] == "dive.history/1" and document["runs"][1]["started_at"].endswith("Z")
    assert runs[1].duration_s is not None and runs[1].duration_s >= 0
