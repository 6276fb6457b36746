"""`dive spoke …` argument rules through the real Typer app (orchestration §2.1, §2.2)."""

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
    environ = {"DIVE_DATABASE_URL": "", "DIVE_PORT_SHIFT": os.environ["DIVE_PORT_SHIFT"]}
    return runner.invoke(app, ["--home", str(home), *args], env=environ)


def test_spoke_deploy_of_the_hub_code_is_refused(dive_home: Path):
    answer = _invoke(dive_home, "spoke", "deploy", "usa")
    assert answer.exit_code == 2 and "usa is the hub; use `dive hub deploy`" in answer.output


def test_spoke_code_that_differs_from_the_global_instance_is_refused(dive_home: Path):
    answer = _invoke(dive_home, "--instance", "deu", "spoke", "deploy", "fra")
    assert answer.exit_code == 2 and "differs from --instance DEU" in answer.output


def test_spoke_deploy_without_a_code_is_refused(dive_home: Path):
    assert _invoke(dive_home, "spoke", "deploy").exit_code == 2


def test_spoke_dry_run_lists_the_six_spoke_phases(tmp_path: Path):
    answer = _invoke(tmp_path / "none", "spoke", "deploy", "fra", "--dry-run", "--skip-federation")
    phases = [line.split()[0] for line in answer.output.splitlines() if line and not line.startswith((" ", "Dry"))]
    assert answer.exit_code == 0, answer.output
    assert phases == ["PREFLIGHT", "INITIALIZATION", "DEPLOYMENT", "CONFIGURATION", "SEEDING", "VERIFICATION"]


def test_spoke_dry_run_without_a_hub_fails_preflight_and_plans_registration_with_the_hub(tmp_path: Path):
    answer = _invoke(tmp_path / "none", "spoke", "deploy", "fra", "--dry-run")
    preflight = next(line for line in answer.output.splitlines() if line.startswith("PREFLIGHT"))
    assert answer.exit_code == 1, answer.output
    assert preflight.split()[1] == "failed" and "the hub is not deployed on this host" in preflight
    assert "register FRA and fra-kas at the hub (auto-approved outside production)" in answer.output
    assert "verify the federation USA ⇄ FRA with backoff" in answer.output
    assert not (tmp_path / "none").exists()


def test_spoke_dry_run_with_skip_federation_plans_no_hub_contact(tmp_path: Path):
    answer = _invoke(tmp_path / "none", "spoke", "deploy", "fra", "--dry-run", "--skip-federation")
    assert answer.exit_code == 0, answer.output
    assert "at the hub" not in answer.output and "federation" not in answer.output
