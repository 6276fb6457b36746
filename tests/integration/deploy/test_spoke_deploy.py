"""`dive spoke deploy` over real processes (orchestration §4.4, §13.2–§13.3): two deployers of the same spoke (exactly
one proceeds, the other is refused naming the holder), and SIGKILL at crash points followed by `--resume`."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator

import pytest

from harness import free_port_shift

from .cli import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = Deployment(tmp_path_factory.mktemp("spokes") / "home", free_port_shift())
    try:
        yield home
    finally:
        home.run("nuke", "all", "--confirm")


def test_federated_spoke_deploy_without_a_hub_fails_preflight_naming_both_ways_out(deployment: Deployment):
    answer = deployment.run("spoke", "deploy", "fra", "--seed-count", "5")
    assert answer.returncode == 1
    assert "deploy the hub first (dive hub deploy) or pass --skip-federation" in answer.stdout + answer.stderr
    assert deployment.error_codes("fra") == ["PREFLIGHT_HUB_UNREACHABLE"]


def test_same_spoke_deployed_twice_at_once_lets_exactly_one_proceed(deployment: Deployment):
    first = deployment.spawn("spoke", "deploy", "fra", "--seed-count", "5", "--skip-federation")
    time.sleep(0.1)
    second = deployment.spawn("spoke", "deploy", "fra", "--seed-count", "5", "--skip-federation")
    outcomes = sorted(
        [(first.wait(timeout=240), first.communicate()), (second.wait(timeout=240), second.communicate())]
    )

    (winner_code, _), (loser_code, (_out, loser_err)) = outcomes
    assert (winner_code, loser_code) == (0, 2)
    assert "lock deploy:fra is held" in loser_err and "pid" in loser_err
    assert deployment.instance("fra")["state"] == "COMPLETE"


def test_spoke_killed_at_two_crash_points_completes_on_resume_with_exact_document_count(deployment: Deployment):
    hooks = {"DIVE_TEST_HOOKS": "1"}
    crashed = deployment.run(
        "spoke",
        "deploy",
        "deu",
        "--seed-count",
        "1000",
        "--skip-federation",
        DIVE_TEST_CRASH_AT="spoke:DEPLOYMENT:after_services_started",
        **hooks,
    )
    assert crashed.returncode == -signal.SIGKILL

    crashed_again = deployment.run(
        "spoke",
        "deploy",
        "deu",
        "--resume",
        "--skip-federation",
        DIVE_TEST_CRASH_AT="spoke:SEEDING:after_batch_3",
        **hooks,
    )
    assert crashed_again.returncode == -signal.SIGKILL
    resumed = deployment.run("spoke", "deploy", "deu", "--resume", "--skip-federation", **hooks)

    assert resumed.returncode == 0, resumed.stderr
    row = deployment.instance("deu")
    events = deployment.events("deu", row["last_run"]["run_id"])
    skipped = {e["phase"] for e in events if e["event"] == "phase_skipped"}
    assert row["state"] == "COMPLETE" and row["documents"] == 1000
    assert {"INITIALIZATION", "DEPLOYMENT", "CONFIGURATION"} <= skipped
    assert deployment.error_codes("deu").count("RUN_INTERRUPTED") == 2


def test_spoke_verify_json_reports_a_pass_for_a_standalone_spoke(deployment: Deployment):
    answer = deployment.run("spoke", "verify", "fra", "--json")
    assert answer.returncode == 0, answer.stdout
    assert json.loads(answer.stdout)["result"] == "pass"


def test_nuke_spoke_removes_it_and_leaves_the_other_spoke_verified(deployment: Deployment):
    answer = deployment.run("nuke", "spoke", "fra", "--confirm")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert not (deployment.home / "instances" / "fra").exists()
    assert [row["code"] for row in deployment.json("status")["instances"]] == ["DEU"]
    assert deployment.run("spoke", "verify", "deu").returncode == 0
