"""`dive hub …` refusals and the dry run through the real Typer app (orchestration §2.1, §4.2): nothing started."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dive.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _free_ports(port_shift: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVE_PORT_SHIFT", port_shift)  # PREFLIGHT binds these ports only to test them


def _invoke(home: Path, *args: str):
    env = {"DIVE_DATABASE_URL": "", "DIVE_ENV": "", "DIVE_PORT_SHIFT": os.environ["DIVE_PORT_SHIFT"]}
    return runner.invoke(app, ["--home", str(home), *args], env=env)


def test_only_phase_with_from_phase_is_refused_with_exit_2(dive_home: Path):
    answer = _invoke(dive_home, "hub", "deploy", "--only-phase", "KAS", "--from-phase", "DATABASE")
    assert answer.exit_code == 2 and "--only-phase excludes" in answer.output


def test_skipping_a_fatal_phase_is_refused_naming_the_optional_ones(dive_home: Path):
    answer = _invoke(dive_home, "hub", "deploy", "--skip-phase", "identity")
    assert answer.exit_code == 2 and "only optional phases can be skipped (SEEDING)" in answer.output


def test_unknown_phase_name_is_refused_listing_the_hub_phases(dive_home: Path):
    answer = _invoke(dive_home, "hub", "deploy", "--from-phase", "CONFIGURATION")
    assert answer.exit_code == 2 and "PREFLIGHT, INITIALIZATION, DATABASE, SERVICES" in answer.output


def test_dry_run_on_an_empty_home_plans_every_phase_and_creates_nothing(tmp_path: Path):
    home = tmp_path / "never-created"
    answer = _invoke(home, "hub", "deploy", "--dry-run")
    assert answer.exit_code == 0, answer.output
    assert "PREFLIGHT       passed" in answer.output and answer.output.count("would run") == 7
    assert not home.exists()


def test_hub_up_before_any_deploy_is_refused_with_exit_2(dive_home: Path):
    answer = _invoke(dive_home, "hub", "up")
    assert answer.exit_code == 2 and "has not been deployed" in answer.output


def test_hub_verify_of_nothing_fails_every_live_check_with_exit_1(tmp_path: Path):
    answer = _invoke(tmp_path / "empty", "hub", "verify", "--json")
    assert answer.exit_code == 1
    assert '"result": "fail"' in answer.output and not (tmp_path / "empty").exists()
