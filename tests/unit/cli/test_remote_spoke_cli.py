"""`dive spoke authorize|revoke-authorization|federate` and the remote-hub flags of `spoke deploy` (orchestration
Amendment A1; CONSISTENCY #13): every refusal exits 2 before anything is recorded, naming the flag to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dive.cli.main import app
from dive.cli.remote_spoke import remote_hub_environment
from dive.orchestration.invocation import GlobalOptions
from dive.pki import ensure_ca
from dive.secrets import LocalKeystore

runner = CliRunner()
TOKEN = "T" * 43


@pytest.fixture(autouse=True)
def _no_hub_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIVE_HUB_URL", raising=False)


def _invoke(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), *args], env={"DIVE_DATABASE_URL": ""})


@pytest.mark.parametrize("command", ["authorize", "revoke-authorization", "federate"])
def test_every_remote_spoke_command_answers_help(command: str):
    answer = runner.invoke(app, ["spoke", command, "--help"])
    assert answer.exit_code == 0 and "Usage" in answer.output


def test_deploy_help_lists_the_remote_hub_flags():
    answer = runner.invoke(app, ["spoke", "deploy", "--help"], env={"COLUMNS": "200"})
    assert all(flag in answer.output for flag in ("--hub-url", "--hub-ca", "--enrolment-token-file"))


def test_authorize_without_a_hub_in_this_home_is_refused(dive_home: Path):
    answer = _invoke(dive_home, "spoke", "authorize", "FRA")
    assert answer.exit_code == 2 and "the hub is not deployed" in answer.output


@pytest.mark.parametrize(("args", "reason"), [(("usa",), "usa is the hub"), (("FRA", "--ttl", "1w"), "--ttl"),
                                              (("XX1",), "not an instance code")])  # fmt: skip
def test_authorize_refuses_bad_codes_and_lifetimes(dive_home: Path, args: tuple[str, ...], reason: str):
    answer = _invoke(dive_home, "spoke", "authorize", *args)
    assert answer.exit_code == 2 and reason in answer.output


def test_authorize_refuses_to_overwrite_a_token_file(dive_home: Path, tmp_path: Path):
    existing = tmp_path / "token"
    existing.write_text("keep me")
    answer = _invoke(dive_home, "spoke", "authorize", "FRA", "--out", str(existing))
    assert answer.exit_code == 2 and "exists" in answer.output and existing.read_text() == "keep me"


def test_hub_url_without_an_enrolment_token_file_names_the_flag(dive_home: Path, tmp_path: Path):
    answer = _invoke(dive_home, "spoke", "deploy", "fra", "--hub-url", "https://hub.example:4000")
    assert answer.exit_code == 2 and "--hub-url needs --enrolment-token-file FILE" in answer.output
    assert not (dive_home / "orchestration.db").exists()


def test_hub_url_without_a_hub_ca_names_the_flag(dive_home: Path, tmp_path: Path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    args = ("--hub-url", "https://hub.example:4000", "--enrolment-token-file", str(token))
    answer = _invoke(dive_home, "spoke", "deploy", "fra", *args)
    assert answer.exit_code == 2 and "--hub-url needs --hub-ca FILE" in answer.output


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--hub-ca", "x.pem"), "--hub-ca need --hub-url"),
        (("--hub-url", "http://hub:4000"), "https://"),
        (("--skip-federation", "--hub-url", "https://hub:4000"), "excludes --hub-url"),
        (("--hub-url", "https://hub:4000", "--enrolment-token-file", "missing.token"), "no such file"),
    ],
)
def test_remote_flag_refusals_exit_2(dive_home: Path, args: tuple[str, ...], reason: str):
    answer = _invoke(dive_home, "spoke", "deploy", "fra", *args)
    assert answer.exit_code == 2 and reason in answer.output


def test_remote_flags_are_refused_in_the_home_of_the_hub(dive_home: Path, tmp_path: Path):
    (dive_home / "instances" / "usa").mkdir(parents=True)
    token = tmp_path / "token"
    token.write_text(TOKEN)
    args = ("--hub-url", "https://hub:4000", "--enrolment-token-file", str(token))
    answer = _invoke(dive_home, "spoke", "deploy", "fra", *args)
    assert answer.exit_code == 2 and "the hub is deployed in this DIVE_HOME" in answer.output


def test_federate_of_an_undeployed_spoke_is_refused(dive_home: Path, tmp_path: Path):
    answer = _invoke(dive_home, "spoke", "federate", "fra")
    assert answer.exit_code == 2 and "FRA" in answer.output


def _ca_file(directory: Path) -> Path:
    ca_home = directory / "hub-home"
    ca_home.mkdir()
    return ensure_ca(ca_home).cert_path


def test_accepted_remote_flags_travel_to_the_run_as_absolute_paths(dive_home: Path, tmp_path: Path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    ca = _ca_file(tmp_path)
    options = GlobalOptions(home=dive_home)
    environment = remote_hub_environment(
        options, "fra", hub_url="https://hub.example:4000/api", hub_ca=ca, token_file=token
    )
    assert environment == {
        "DIVE_HUB_URL": "https://hub.example:4000",
        "DIVE_ENROLMENT_TOKEN_FILE": str(token.absolute()),
        "DIVE_HUB_CA_FILE": str(ca.absolute()),
    }


def test_an_enrolled_spoke_with_a_trusted_hub_ca_needs_neither_token_nor_ca(dive_home: Path):
    LocalKeystore(dive_home).put("fra/spoke-token", "s" * 43)
    trusted = dive_home / "pki" / "trusted" / "usa.pem"
    trusted.parent.mkdir(parents=True)
    trusted.write_text("trusted earlier")
    options = GlobalOptions(home=dive_home)
    environment = remote_hub_environment(options, "fra", hub_url="https://hub:4000", hub_ca=None, token_file=None)
    assert environment == {"DIVE_HUB_URL": "https://hub:4000"}
    assert remote_hub_environment(options, "fra", hub_url=None, hub_ca=None, token_file=None) == {}
