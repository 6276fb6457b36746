"""`dive orch-db …` and the global flags (orchestration §2.1, §2.2, §5.5) through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app
from dive.orchestration.database import open_orchestration_db
from dive.orchestration.errors import InvalidTransitionError
from dive.orchestration.states import current_state, transition
from dive.store import expected_tables, writer_session_factory

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), env={"DIVE_DATABASE_URL": "", "DIVE_ENV": ""})


def _seed_states(home: Path, *states: str) -> None:
    engine, _ = open_orchestration_db(home, {})
    try:
        with writer_session_factory(engine)() as session:
            for state in states:
                try:
                    transition(session, "fra", state, run_id=None, reason="test")
                except InvalidTransitionError:
                    continue
    finally:
        engine.dispose()


def test_status_json_reports_schema_head_and_table_count(dive_home: Path):
    result = _invoke("--home", str(dive_home), "orch-db", "status", "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert document["schema"] == "dive.orch-db.status/1"
    assert document["tables"] == len(expected_tables()) and document["revision"] == document["head"]


def test_history_lists_accepted_and_rejected_transitions(dive_home: Path):
    _seed_states(dive_home, "INITIALIZING", "COMPLETE")

    result = _invoke("--home", str(dive_home), "--json", "orch-db", "history", "FRA")

    transitions = json.loads(result.stdout)["transitions"]
    assert [(item["to"], item["accepted"]) for item in transitions] == [("COMPLETE", False), ("INITIALIZING", True)]


def test_positional_code_that_differs_from_instance_is_refused_with_a_json_error(dive_home: Path):
    result = _invoke("--home", str(dive_home), "--instance", "fra", "--json", "orch-db", "history", "deu")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["schema"] == "dive.error/1" and document["exit_code"] == 2
    assert document["error"]["code"] == "USAGE_ERROR"


def test_unknown_environment_is_a_usage_error(dive_home: Path):
    result = _invoke("--home", str(dive_home), "--env", "staging", "orch-db", "status")

    assert result.exit_code == 2 and "choose local or production" in result.stderr


def test_validate_reports_an_active_state_without_holder_and_repair_fails_it(dive_home: Path):
    _seed_states(dive_home, "INITIALIZING")

    found = _invoke("--home", str(dive_home), "orch-db", "validate")
    repaired = _invoke("--home", str(dive_home), "orch-db", "validate", "--repair")

    assert found.exit_code == 1 and "interrupted" in found.stdout
    assert repaired.exit_code == 0
    engine, _ = open_orchestration_db(dive_home, {})
    try:
        with writer_session_factory(engine)() as session:
            assert current_state(session, "fra").state == "FAILED"
    finally:
        engine.dispose()
