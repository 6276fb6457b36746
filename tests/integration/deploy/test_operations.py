"""Operator commands on one real hub (orchestration §2.2, §10, §11.3, §13.2): `validate` without false positives and
with single faults, `hub phases`, `hub history`, `hub restart pdp`, `nuke --keep-data` and `nuke --force`.
The tests run in file order on one deployment; each fault is undone by its own test, except the deleted realm,
which only the nukes at the end follow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.kas.sealing import seal_private_key
from dive.orchestration.deploy import instance_facts
from dive.orchestration.deploy.idp_admin import IdpAdmin
from dive.orchestration.runtime import Supervisor, service_programs
from dive.secrets import LocalKeystore
from harness import free_port_shift

from .cli import Deployment, port_is_free

SEED_COUNT = "10"
CONTENDER = Path(__file__).parents[2] / "unit" / "orchestration" / "lock_contender.py"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("operations") / "home", free_port_shift(("usa",)))
    first = deployment.run("hub", "deploy", "--seed-count", SEED_COUNT)
    assert first.returncode == 0, first.stdout + first.stderr
    try:
        yield deployment
    finally:
        deployment.run("nuke", "all", "--confirm", "--force")


def _validate(deployment: Deployment) -> tuple[int, dict[str, Any]]:
    answer = deployment.run("validate", "--json")
    return answer.returncode, json.loads(answer.stdout)


def _not_ok(document: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(c["instance"], c["id"], c["status"]) for c in document["checks"] if c["status"] in ("WARN", "FAIL")]


def _services(deployment: Deployment) -> dict[str, tuple[int, str]]:
    services = deployment.instance("usa")["services"]
    return {name: (service["pid"], service["status"]) for name, service in services.items()}


def test_validate_of_a_healthy_hub_reports_no_warn_and_no_fail(hub):
    code, document = _validate(hub)
    checked = {(c["instance"], c["id"]): c["status"] for c in document["checks"]}
    assert code == 0 and document["schema"] == "dive.validate/1" and _not_ok(document) == []
    assert checked[("USA", "pdp")] == checked[("USA", "kas")] == checked[("USA", "realm")] == "OK"
    assert checked[(None, "redis")] == checked[(None, "federation")] == "SKIP"


def test_hub_phases_show_every_phase_completed_with_a_valid_checkpoint(hub):
    answer = hub.run("hub", "phases", "--timing", "--json")
    document = json.loads(answer.stdout)
    phases = document["phases"]
    assert answer.returncode == 0 and document["schema"] == "dive.phases/1" and document["resume_point"] is None
    assert {p["last_status"] for p in phases} == {"COMPLETED"} and len(phases) == 8
    assert all(p["checkpoint_valid"] for p in phases if p["phase"] not in ("PREFLIGHT", "VERIFICATION"))
    assert all(len(p["timing_s"]) == 1 and p["duration_s"] is not None for p in phases)


def test_hub_history_lists_the_deploy_run(hub):
    answer = hub.run("hub", "history", "--json")
    [run] = json.loads(answer.stdout)["runs"]
    assert answer.returncode == 0
    assert (run["command"], run["kind"], run["outcome"], run["final_state"], run["failed_phase"]) == (
        "hub deploy",
        "full",
        "SUCCEEDED",
        "COMPLETE",
        None,
    )


def test_validate_with_the_pdp_stopped_fails_exactly_the_pdp_check_and_restart_pdp_brings_only_it_back(hub):
    before = _services(hub)
    Supervisor(hub.home).stop_group("usa", service_programs(hub.home, "usa", ["pdp"], hub.environ()))

    code, document = _validate(hub)
    restarted = hub.run("hub", "restart", "pdp")

    after = _services(hub)
    assert code == 1 and _not_ok(document) == [("USA", "pdp", "FAIL")]
    assert restarted.returncode == 0, restarted.stderr
    assert after["pdp"][0] != before["pdp"][0] and {s[1] for s in after.values()} == {"healthy"}
    assert {k: v for k, v in after.items() if k != "pdp"} == {k: v for k, v in before.items() if k != "pdp"}
    latest = json.loads(hub.run("hub", "history", "1", "--json").stdout)["runs"]
    assert [(r["command"], r["kind"], r["outcome"]) for r in latest] == [("hub restart pdp", "operation", "SUCCEEDED")]


def test_validate_with_the_kas_key_file_replaced_fails_exactly_the_kas_check(hub):
    keystore = LocalKeystore(hub.home)
    original = keystore.get("kas/usa/keys/usa-rsa-1")
    assert original is not None
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sealed = seal_private_key(keystore.get("kas/usa/kek") or "", "usa-rsa-1", impostor)
    keystore.put("kas/usa/keys/usa-rsa-1", sealed, overwrite=True)
    try:
        code, document = _validate(hub)
    finally:
        keystore.put("kas/usa/keys/usa-rsa-1", original, overwrite=True)
    assert code == 1 and _not_ok(document) == [("USA", "kas", "FAIL")]


def test_validate_with_the_orchestration_database_unreadable_fails_exactly_orch_db(hub):
    database = hub.home / "orchestration.db"
    saved = database.with_name("orchestration.db.saved")
    database.rename(saved)
    database.write_bytes(os.urandom(4096))
    try:
        code, document = _validate(hub)
    finally:
        saved.replace(database)
    assert code == 1 and _not_ok(document) == [(None, "orch-db", "FAIL")]


def test_validate_with_the_realm_deleted_fails_exactly_the_realm_check(hub):
    with IdpAdmin(instance_facts(hub.home, "usa", hub.environ())) as admin:
        assert admin.request("DELETE", "").status_code == 204

    code, document = _validate(hub)

    assert code == 1 and _not_ok(document) == [("USA", "realm", "FAIL")]


def test_nuke_all_keep_data_stops_everything_and_keeps_databases_secrets_ca_and_history(hub):
    instance = hub.home / "instances" / "usa"
    ports = [hub.shift + port for port in (8181, 8443, 9000, 4000)]

    answer = hub.run("nuke", "all", "--confirm", "--keep-data")

    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "databases, secrets and the CA kept — nothing left behind" in answer.stdout
    assert all(port_is_free(port) for port in ports) and not _processes_of(hub.home)
    assert (instance / "data" / "instance.db").exists() and (instance / "kas").is_dir()
    assert (hub.home / "pki" / "ca.crt").exists() and LocalKeystore(hub.home).get("kas/usa/keys/usa-rsa-1")
    assert not (instance / "logs").exists() and not (instance / "certs").exists()
    assert not (instance / "config.json").exists() and not (hub.home / "supervisor").exists()
    row = hub.instance("usa")
    assert row["state"] == "UNKNOWN" and row["documents"] == int(SEED_COUNT) and row["healthy"] == 0
    assert json.loads(hub.run("hub", "history", "--json").stdout)["runs"][-1]["command"] == "hub deploy"


def test_nuke_refuses_a_live_lock_holder_and_force_terminates_it(hub):
    contender = subprocess.Popen(
        [
            sys.executable,
            str(CONTENDER),
            f"sqlite:///{hub.home / 'orchestration.db'}",
            str(hub.home),
            "usa",
            "0",
            "300",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert contender.stdout is not None and json.loads(contender.stdout.readline()) == {"won": True}
        refused = hub.run("nuke", "all", "--confirm")
        forced = hub.run("nuke", "all", "--confirm", "--force")
    finally:
        contender.kill()
        contender.wait()
    assert refused.returncode == 2 and "deploy:usa" in refused.stderr
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "nothing left behind" in forced.stdout and not hub.home.exists()


def _processes_of(home: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if str(home) in command and entry.name.isdigit():
            found.append(int(entry.name))
    return found
