"""`dive hub deploy` end to end over real processes (orchestration §4.3, §13.2): clean deploy, idempotent redeploy,
verify/health/status documents, dry run, and `nuke all` leaving nothing behind. One deployment for the module."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cli import Deployment, port_is_free

SHIFT = 20000  # orchestration §13.1: this module's own multiple of 10000
SEED_COUNT = "20"
HUB_PORTS = [SHIFT + port for port in (8181, 8443, 9000, 4000)]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, object]]:
    deployment = Deployment(tmp_path_factory.mktemp("hub") / "home", SHIFT)
    first = deployment.run("hub", "deploy", "--seed-count", SEED_COUNT)
    try:
        yield deployment, first
    finally:
        deployment.run("nuke", "all", "--confirm")


def _run_id(deployment: Deployment) -> str:
    return str(deployment.instance("usa")["last_run"]["run_id"])


def test_clean_hub_deploy_completes_with_every_phase_and_healthy_services(hub):
    deployment, first = hub
    assert first.returncode == 0, first.stderr
    row = deployment.instance("usa")
    events = deployment.events("usa", _run_id(deployment))
    completed = [e["phase"] for e in events if e["event"] == "phase_completed"]
    assert row["state"] == "COMPLETE" and row["healthy"] == row["total"] >= 4
    assert completed == [
        "PREFLIGHT",
        "INITIALIZATION",
        "DATABASE",
        "SERVICES",
        "IDENTITY",
        "KAS",
        "SEEDING",
        "VERIFICATION",
    ]
    assert row["documents"] == 20
    assert (
        "Hub USA is COMPLETE" in first.stdout and "dive secrets get _shared/test-user-password --reveal" in first.stdout
    )


def test_hub_verify_passes_every_applicable_check_including_a_real_token(hub):
    deployment, _ = hub
    answer = deployment.run("hub", "verify", "--json")
    document = json.loads(answer.stdout)
    statuses = {check["id"]: check["status"] for check in document["checks"]}
    assert answer.returncode == 0 and document["result"] == "pass"
    assert statuses["token"] == statuses["realm"] == statuses["kas"] == statuses["documents"] == "pass"
    assert statuses["redis"] == "skip"


def test_seven_test_accounts_get_totp_secrets_in_the_keystore(hub):
    deployment, _ = hub
    listed = deployment.run("secrets", "list").stdout
    totp = [line.split()[0] for line in listed.splitlines() if line.startswith("usa/totp/")]
    assert sorted(totp) == [
        "usa/totp/admin-usa",
        "usa/totp/contractor-usa",
        "usa/totp/testuser-usa-3",
        "usa/totp/testuser-usa-4",
        "usa/totp/testuser-usa-5",
    ]


def test_redeploy_of_a_complete_hub_changes_no_process_and_records_no_error(hub):
    deployment, _ = hub
    pids = {name: s["pid"] for name, s in deployment.instance("usa")["services"].items()}

    again = deployment.run("hub", "deploy", "--seed-count", SEED_COUNT)

    assert again.returncode == 0, again.stderr
    assert " ! " not in again.stderr and "✗" not in again.stderr
    assert {name: s["pid"] for name, s in deployment.instance("usa")["services"].items()} == pids
    assert deployment.error_codes("usa") == []
    assert "0 changes applied" in again.stderr and "nothing to do" in again.stderr


def test_resume_of_a_complete_hub_has_nothing_to_do(hub):
    deployment, _ = hub
    answer = deployment.run("hub", "deploy", "--resume")
    assert answer.returncode == 0 and "Nothing to resume: USA is COMPLETE" in answer.stdout


def test_dry_run_starts_nothing_and_leaves_the_databases_unchanged(hub):
    deployment, _ = hub
    files = [deployment.home / "orchestration.db", deployment.home / "instances/usa/data/instance.db"]
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]

    answer = deployment.run("hub", "deploy", "--dry-run")

    assert answer.returncode == 0 and "would skip" in answer.stdout
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == before


def test_health_document_says_healthy_and_ps_lists_every_program_running(hub):
    deployment, _ = hub
    health = deployment.run("health", "--json")
    processes = deployment.json("ps")
    assert health.returncode == 0 and json.loads(health.stdout)["status"] == "healthy"
    assert {p["program"] for p in processes} >= {"hub-pdp", "hub-idp", "hub-kas"}
    assert {p["state"] for p in processes} == {"RUNNING"}


def test_nuke_without_confirm_is_refused_non_interactively(hub):
    deployment, _ = hub
    assert deployment.run("nuke", "all").returncode == 2
    assert deployment.home.exists()


def test_nuke_all_leaves_no_process_port_or_file(hub):
    deployment, _ = hub
    answer = deployment.run("nuke", "all", "--confirm")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "nothing left behind" in answer.stdout
    assert not deployment.home.exists()
    assert all(port_is_free(port) for port in HUB_PORTS)
    assert not _processes_of(deployment.home)


def _processes_of(home: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if str(home) in command:
            found.append(int(entry.name))
    return found
