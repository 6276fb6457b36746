"""`spoke deploy-all` and `spoke clean-locks` over real processes (orchestration §4.7, §6.4, §13.2 "10 spokes at once"
and "Clean-locks and breaker")."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import select

from dive.store import create_engine_for, writer_session_factory
from dive.store.models.orchestration import DeploymentLock
from harness import free_port_shift

from .cli import Deployment

TEN_SPOKES: Final = ("alb", "bel", "bgr", "can", "hrv", "cze", "dnk", "est", "fin", "grc")
DEPLOY_ALL_TIMEOUT_S: Final = 1800.0  # ten spokes × four services on two cores
# Forty services starting at once on two cores take longer than the single-deploy health-gate defaults (§1.1).
SLOW_START: Final = {f"DIVE_HEALTH_TIMEOUT_{service}": "120" for service in ("PDP", "IDP", "KAS", "API")}
EVENT_WAIT_S: Final = 240.0
EVENT_POLL_S: Final = 0.2


@pytest.fixture
def ten_spoke_home(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path / "home", free_port_shift(TEN_SPOKES))
    try:
        yield deployment
    finally:
        nuked = deployment.run("nuke", "all", "--confirm", timeout=600)
        assert nuked.returncode == 0, nuked.stdout + nuked.stderr


def _deploy_all(deployment: Deployment, *options: str) -> dict[str, Any]:
    finished = deployment.run(
        "spoke",
        "deploy-all",
        *TEN_SPOKES,
        "--seed-count",
        "200",
        "--skip-federation",
        "--json",
        *options,
        timeout=DEPLOY_ALL_TIMEOUT_S,
        **SLOW_START,
    )
    summary: dict[str, Any] = json.loads(finished.stdout)
    assert finished.returncode == summary["exit_code"] and finished.returncode in (0, 1), finished.stderr
    assert [spoke["code"] for spoke in summary["spokes"]] == [code.upper() for code in TEN_SPOKES]
    return summary


def _failures(summary: dict[str, Any]) -> dict[str, str]:
    return {spoke["code"].lower(): spoke["message"] for spoke in summary["spokes"] if spoke["exit_code"] != 0}


def _unreleased_locks(deployment: Deployment) -> list[str]:
    engine = create_engine_for(f"sqlite:///{deployment.home / 'orchestration.db'}")
    try:
        with writer_session_factory(engine)() as session:
            return list(session.scalars(select(DeploymentLock.lock_name).where(DeploymentLock.released_at.is_(None))))
    finally:
        engine.dispose()


def _rendered_ports(deployment: Deployment, code: str) -> dict[str, int]:
    config = json.loads((deployment.home / "instances" / code / "config.json").read_text())
    return {program: spec["port"] for program, spec in config["programs"].items()}


@pytest.mark.slow
@pytest.mark.timeout(2 * DEPLOY_ALL_TIMEOUT_S + 900)
def test_ten_spokes_deployed_at_once_all_complete_after_a_resume_on_distinct_ports(ten_spoke_home: Deployment):
    first = _deploy_all(ten_spoke_home, "--parallel", "10")

    rows = {row["code"].lower(): row for row in ten_spoke_home.json("status")["instances"]}
    for code, message in _failures(first).items():  # a failure stays graceful: FAILED, error recorded, no lock held
        assert code in rows and rows[code]["state"] == "FAILED" and rows[code]["open_errors"], (code, message)
    assert _unreleased_locks(ten_spoke_home) == []

    resumed = _deploy_all(ten_spoke_home, "--resume")  # at the default parallelism

    assert _failures(resumed) == {}, _failures(first)
    rows = {row["code"].lower(): row for row in ten_spoke_home.json("status")["instances"]}
    assert {code: rows[code]["state"] for code in TEN_SPOKES} == dict.fromkeys(TEN_SPOKES, "COMPLETE")
    rendered = {program: port for code in TEN_SPOKES for program, port in _rendered_ports(ten_spoke_home, code).items()}
    assert len(set(rendered.values())) == len(rendered) == 4 * len(TEN_SPOKES)
    running = {(row["program"], row["port"]) for row in ten_spoke_home.json("ps") if row["state"] == "RUNNING"}
    assert running == set(rendered.items())


@pytest.fixture
def fra_home(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path / "home", free_port_shift(("fra",)))
    try:
        yield deployment
    finally:
        deployment.run("nuke", "all", "--confirm", timeout=600)


def _wait_for_event(deployment: Deployment, process: subprocess.Popen[str], run_id: str, event: str) -> None:
    """Poll the run's event log until `event` appears; the deployer must still be running."""
    log = deployment.home / "instances" / "fra" / "runs" / f"{run_id}.jsonl"
    deadline = time.monotonic() + EVENT_WAIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if log.exists() and any(json.loads(line)["event"] == event for line in log.read_text().splitlines()):
            return
        time.sleep(EVENT_POLL_S)
    pytest.fail(f"no {event} event in {log} within {EVENT_WAIT_S} s")


def test_clean_locks_cleans_a_killed_holder_and_leaves_a_live_one_alone(fra_home: Deployment):
    standalone = ("--skip-federation",)
    crashed = fra_home.run(
        "spoke",
        "deploy",
        "fra",
        "--seed-count",
        "1000",
        *standalone,
        DIVE_TEST_HOOKS="1",
        DIVE_TEST_CRASH_AT="spoke:SEEDING:after_batch_3",
    )
    assert crashed.returncode == -signal.SIGKILL
    dead_holder = fra_home.instance("fra")["lock"]

    cleaned = fra_home.run("spoke", "clean-locks", "fra")

    assert cleaned.returncode == 0, cleaned.stderr
    assert f"deploy:fra: holder pid {dead_holder['pid']} gone, cleaned" in cleaned.stdout
    assert fra_home.instance("fra")["state"] == "FAILED"
    assert {"LOCK_STALE_CLEANED", "RUN_INTERRUPTED"} <= set(fra_home.error_codes("fra"))

    run_id = "20260101T000000Z-c1ea45"
    live = fra_home.spawn("spoke", "deploy", "fra", "--resume", "--seed-count", "6000", *standalone, "--run-id", run_id)
    try:
        _wait_for_event(fra_home, live, run_id, "phase_started")
        refused = fra_home.run("spoke", "clean-locks")

        assert refused.returncode == 1, refused.stderr
        assert f"deploy:fra: held by live pid {live.pid} on " in refused.stdout
        assert f"(run {run_id}) — not touched" in refused.stdout
        assert live.poll() is None
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=120)
    assert live.returncode == 130
    assert _unreleased_locks(fra_home) == []
