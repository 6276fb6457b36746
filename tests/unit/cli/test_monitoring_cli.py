"""`dive monitoring up|down|status` without a running stack (orchestration §12.2, exit codes of §2.1)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app
from dive.orchestration.monitoring import refresh_monitoring

runner = CliRunner()


def _invoke(home: Path, *args: str, **env: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"DIVE_PORT_SHIFT": "20000", **env})


def test_up_without_the_debian_binaries_exits_1_with_the_apt_get_hint(tmp_path: Path):
    answer = _invoke(tmp_path, "monitoring", "up", PATH=str(tmp_path / "no-binaries"))

    assert answer.exit_code == 1
    assert "prometheus and prometheus-alertmanager not found" in answer.stderr
    assert "apt-get install prometheus prometheus-alertmanager" in answer.stderr


def test_up_json_without_the_binaries_prints_an_error_document(tmp_path: Path):
    answer = _invoke(tmp_path, "--json", "monitoring", "up", PATH=str(tmp_path / "no-binaries"))

    document = json.loads(answer.stdout)
    assert answer.exit_code == 1 and document["error"]["code"] == "MONITORING_UNAVAILABLE"


def test_status_json_of_a_home_without_monitoring_shows_it_absent(tmp_path: Path):
    answer = _invoke(tmp_path, "monitoring", "status", "--json")

    document = json.loads(answer.stdout)
    assert answer.exit_code == 0 and document["schema"] == "dive.monitoring/1" and document["running"] is False
    assert document["alertmanager"] == {"url": "http://127.0.0.1:29093", "state": "ABSENT"}


def test_status_text_names_both_ports_and_the_target_count(tmp_path: Path):
    answer = _invoke(tmp_path, "monitoring", "status")

    assert answer.exit_code == 0
    assert "Prometheus ABSENT (http://127.0.0.1:29090)" in answer.stdout and "targets 0/0 up" in answer.stdout


def test_down_when_nothing_runs_says_so_and_succeeds(tmp_path: Path):
    answer = _invoke(tmp_path, "monitoring", "down")

    assert answer.exit_code == 0 and "Monitoring was not running." in answer.stdout


def test_dry_run_up_counts_targets_and_writes_nothing(tmp_path: Path):
    answer = _invoke(tmp_path, "--dry-run", "monitoring", "up")

    assert answer.exit_code == 0 and "scraping 0 targets" in answer.stdout
    assert not (tmp_path / "monitoring").exists()


def test_a_deploy_does_not_render_monitoring_while_it_is_not_running(tmp_path: Path):
    assert refresh_monitoring(tmp_path, {}) is None
    assert not (tmp_path / "monitoring").exists()
