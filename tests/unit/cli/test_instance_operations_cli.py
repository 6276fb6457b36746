"""`validate`, `hub|spoke phases|history|restart` and `nuke --keep-data` on homes with nothing running
(orchestration §2.2, §10, §11.3); the running cases are in tests/integration/deploy/test_operations.py."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app
from harness import free_port_shift

runner = CliRunner()


def _invoke(home: Path, *args: str):
    environ = {"DIVE_DATABASE_URL": "", "DIVE_ENV": "", "DIVE_PORT_SHIFT": str(free_port_shift(("usa",)))}
    return runner.invoke(app, ["--home", str(home), *args], env=environ)


def test_hub_history_of_an_empty_home_is_an_empty_list_and_creates_nothing(tmp_path: Path):
    home = tmp_path / "empty"
    answer = _invoke(home, "hub", "history", "--json")
    assert answer.exit_code == 0 and json.loads(answer.stdout) == {
        "schema": "dive.history/1",
        "instance": "USA",
        "runs": [],
    }
    assert not home.exists()


def test_spoke_phases_of_an_undeployed_spoke_resume_at_initialization(dive_home: Path):
    answer = _invoke(dive_home, "spoke", "phases", "fra", "--json", "--timing")
    document = json.loads(answer.stdout)
    assert answer.exit_code == 0 and document["resume_point"] == "INITIALIZATION"
    assert [p["phase"] for p in document["phases"]][:3] == ["PREFLIGHT", "INITIALIZATION", "DEPLOYMENT"]
    assert document["phases"][1] | {"timing_s": None} == {
        "phase": "INITIALIZATION",
        "fatal": True,
        "optional": False,
        "last_status": None,
        "last_run_id": None,
        "duration_s": None,
        "checkpoint_valid": False,
        "reason": "no checkpoint",
        "timing_s": None,
    }


def test_restart_of_an_unknown_service_is_refused_before_anything_runs(dive_home: Path):
    answer = _invoke(dive_home, "hub", "restart", "nginx")
    assert answer.exit_code == 2 and "unknown service 'nginx'" in answer.output
    assert not (dive_home / "orchestration.db").exists()


def test_restart_of_an_undeployed_spoke_is_refused_with_the_deploy_command(dive_home: Path):
    answer = _invoke(dive_home, "spoke", "restart", "fra", "pdp")
    assert answer.exit_code == 2 and "dive spoke deploy fra" in answer.output


def test_validate_of_an_empty_home_exits_0_with_only_ok_and_skip_rows(tmp_path: Path):
    answer = _invoke(tmp_path / "empty", "validate", "--json")
    document = json.loads(answer.stdout)
    assert answer.exit_code == 0 and document["result"] == "pass"
    assert document["counts"]["WARN"] == document["counts"]["FAIL"] == 0


def test_nuke_all_keep_data_keeps_databases_secrets_and_the_ca_but_removes_logs_and_settings(dive_home: Path):
    instance = dive_home / "instances" / "usa"
    for kept in ("data/instance.marker", "kas/usa-rsa-1.pub.pem", "runs/r.jsonl"):
        (instance / kept).parent.mkdir(parents=True, exist_ok=True)
        (instance / kept).write_text("kept")
    for removed in ("logs/api.log", "certs/api.crt", "config.json"):
        (instance / removed).parent.mkdir(parents=True, exist_ok=True)
        (instance / removed).write_text("removed")
    for kept in ("pki/ca.crt", "secrets/usa/app-client-secret"):
        (dive_home / kept).parent.mkdir(parents=True, exist_ok=True)
        (dive_home / kept).write_text("kept")

    answer = _invoke(dive_home, "nuke", "all", "--confirm", "--keep-data")

    assert answer.exit_code == 0, answer.output
    assert "databases, secrets and the CA kept — nothing left behind" in answer.output
    assert sorted(p.name for p in instance.iterdir()) == ["data", "kas", "runs"]
    assert (dive_home / "pki" / "ca.crt").exists() and (dive_home / "secrets" / "usa" / "app-client-secret").exists()


def test_with_instance_given_a_lone_positional_is_the_service_or_the_count(dive_home: Path):
    restart = _invoke(dive_home, "--instance", "fra", "spoke", "restart", "api")
    history = _invoke(dive_home, "--instance", "fra", "spoke", "history", "3", "--json")
    assert restart.exit_code == 2 and "FRA has not been deployed" in restart.output
    assert history.exit_code == 0 and json.loads(history.stdout)["instance"] == "FRA"
