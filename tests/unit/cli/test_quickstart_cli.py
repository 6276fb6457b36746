"""`dive quickstart --dry-run`: the hub first, then FRA and DEU, planned without writing anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app

runner = CliRunner()


def test_quickstart_dry_run_plans_hub_then_fra_then_deu_and_writes_nothing(tmp_path: Path, port_shift: str):
    home = tmp_path / "fresh-checkout-home"
    answer = runner.invoke(
        app,
        ["--home", str(home), "quickstart", "--dry-run"],
        env={"DIVE_DATABASE_URL": "", "DIVE_PORT_SHIFT": port_shift},
    )
    commands = [line for line in answer.output.splitlines() if line.startswith("Dry run of")]
    assert answer.exit_code == 0, answer.output
    assert commands == [
        "Dry run of dive hub deploy: nothing is locked, written or started.",
        "Dry run of dive spoke deploy fra: nothing is locked, written or started.",
        "Dry run of dive spoke deploy deu: nothing is locked, written or started.",
    ]
    assert not home.exists()


def test_quickstart_dry_run_plans_the_federation_of_both_spokes_with_the_planned_hub(tmp_path: Path, port_shift: str):
    environ = {"DIVE_DATABASE_URL": "", "DIVE_PORT_SHIFT": port_shift}
    answer = runner.invoke(app, ["--home", str(tmp_path / "h"), "quickstart", "-n"], env=environ)
    assert answer.exit_code == 0, answer.output
    assert answer.output.count("the hub is deployed first by this quickstart") == 2
    assert all(f"register {c} and {c.lower()}-kas at the hub" in answer.output for c in ("FRA", "DEU"))
