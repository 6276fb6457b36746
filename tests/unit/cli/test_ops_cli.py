"""`dive status|health|ps|nuke|version|logs` on homes with nothing running (orchestration §10, §11)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app
from dive.store import head_revision

runner = CliRunner()


def _invoke(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"DIVE_DATABASE_URL": "", "DIVE_ENV": ""})


def test_status_json_of_an_empty_home_has_the_schema_and_no_instances_and_creates_nothing(tmp_path: Path):
    home = tmp_path / "empty"
    answer = _invoke(home, "status", "--json")
    document = json.loads(answer.stdout)
    assert answer.exit_code == 0
    assert document["schema"] == "dive.status/1" and document["instances"] == []
    assert document["supervisor"] == {"running": False, "pid": None}
    assert not home.exists()


def test_health_with_no_instance_is_unhealthy_with_exit_1(dive_home: Path):
    answer = _invoke(dive_home, "health", "--json")
    assert answer.exit_code == 1 and json.loads(answer.stdout)["status"] == "unhealthy"


def test_nuke_without_confirm_in_non_interactive_mode_exits_2_and_keeps_the_home(dive_home: Path):
    (dive_home / "marker").write_text("kept")
    answer = _invoke(dive_home, "nuke", "all")
    assert answer.exit_code == 2 and (dive_home / "marker").exists()


def test_nuke_of_an_unknown_spoke_is_refused(dive_home: Path):
    answer = _invoke(dive_home, "nuke", "spoke", "fra", "--confirm")
    assert answer.exit_code == 2 and "unknown instance FRA" in answer.output


def test_nuke_all_of_a_stopped_home_removes_it_entirely(dive_home: Path):
    (dive_home / "instances" / "usa" / "logs").mkdir(parents=True)
    answer = _invoke(dive_home, "nuke", "all", "--confirm")
    assert answer.exit_code == 0 and "nothing left behind" in answer.output
    assert not dive_home.exists()


def test_version_reports_the_schema_head(dive_home: Path):
    answer = _invoke(dive_home, "version", "--json")
    assert json.loads(answer.stdout)["schema_head"] == head_revision()


def test_logs_prefix_each_line_with_instance_and_service(dive_home: Path):
    logs = dive_home / "instances" / "fra" / "logs"
    logs.mkdir(parents=True)
    (logs / "kas.log").write_text("one\ntwo\nthree\n")
    answer = _invoke(dive_home, "logs", "fra", "kas", "-n", "2")
    assert answer.exit_code == 0 and answer.output.splitlines() == ["fra/kas │ two", "fra/kas │ three"]
