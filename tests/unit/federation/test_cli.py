"""`dive federation …` contract (orchestration §2.1, §2.2): every command answers --help; refusals exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dive.cli.main import app

COMMANDS = ["status", "verify", "list", "approve", "suspend", "revoke", "link", "unlink", "migrate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_federation_command_answers_help(command: str):
    result = CliRunner().invoke(app, ["federation", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_status_without_a_deployed_hub_is_refused_with_a_json_error(dive_home: Path):
    result = CliRunner().invoke(app, ["--json", "--home", str(dive_home), "federation", "status"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "PRECONDITION_FAILED"


def test_verify_of_the_hub_itself_is_a_usage_error(dive_home: Path):
    result = CliRunner().invoke(app, ["--home", str(dive_home), "federation", "verify", "usa"])
    assert result.exit_code == 2 and "usa is the hub" in result.stderr


def test_a_bad_backoff_schedule_is_a_usage_error(dive_home: Path):
    result = CliRunner().invoke(app, ["--home", str(dive_home), "federation", "verify", "FRA", "--backoff", "x"])
    assert result.exit_code == 2 and "comma-separated" in result.stderr


def test_list_refuses_two_status_filters(dive_home: Path):
    result = CliRunner().invoke(app, ["--home", str(dive_home), "federation", "list", "--pending", "--revoked"])
    assert result.exit_code == 2
