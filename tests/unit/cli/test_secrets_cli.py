"""`dive secrets …` through the real Typer app on an empty home (orchestration §9): no services needed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dive.cli.main import app
from dive.secrets import LocalKeystore

runner = CliRunner()


def _invoke(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"DIVE_DATABASE_URL": "", "DIVE_ENV": ""})


def test_secrets_ensure_twice_generates_once_and_keeps_values(dive_home: Path):
    first = _invoke(dive_home, "--instance", "fra", "secrets", "ensure")
    value = LocalKeystore(dive_home).get("fra/app-client-secret")
    second = _invoke(dive_home, "--instance", "fra", "secrets", "ensure")

    assert first.exit_code == 0 and "FRA: 13 secrets generated" in first.output
    assert second.exit_code == 0 and "FRA: 0 secrets generated" in second.output
    assert LocalKeystore(dive_home).get("fra/app-client-secret") == value


def test_secrets_set_refuses_a_placeholder_with_exit_1_and_stores_nothing(dive_home: Path):
    answer = _invoke(dive_home, "secrets", "set", "app-client-secret", "--value", "placeholder-placeholder-placeholder")
    assert answer.exit_code == 1
    assert "usa/app-client-secret is rejected" in answer.output
    assert LocalKeystore(dive_home).get("usa/app-client-secret") is None


def test_secrets_get_masks_the_value_and_reveal_needs_a_terminal_or_yes(dive_home: Path):
    _invoke(dive_home, "secrets", "ensure")
    value = LocalKeystore(dive_home).get("_shared/test-user-password")
    assert value is not None

    masked = _invoke(dive_home, "secrets", "get", "_shared/test-user-password")
    refused = _invoke(dive_home, "secrets", "get", "_shared/test-user-password", "--reveal")
    revealed = _invoke(dive_home, "--yes", "secrets", "get", "_shared/test-user-password", "--reveal")

    assert masked.exit_code == 0 and value not in masked.output and "(20 chars)" in masked.output
    assert refused.exit_code == 2 and value not in refused.output
    assert revealed.exit_code == 0 and revealed.output.strip() == value


def test_secrets_list_shows_paths_and_never_values(dive_home: Path):
    _invoke(dive_home, "secrets", "ensure")
    listed = _invoke(dive_home, "secrets", "list")
    value = LocalKeystore(dive_home).get("usa/idp-admin-password")
    assert listed.exit_code == 0 and "usa/idp-admin-password" in listed.output
    assert value is not None and value not in listed.output


def test_rotating_the_data_protection_key_is_refused_naming_the_owner(dive_home: Path):
    answer = _invoke(dive_home, "secrets", "rotate", "data-protection-key")
    assert answer.exit_code == 2 and "not rotatable here" in answer.output


def test_secrets_load_without_instance_is_a_usage_error(dive_home: Path):
    assert _invoke(dive_home, "secrets", "load").exit_code == 2
