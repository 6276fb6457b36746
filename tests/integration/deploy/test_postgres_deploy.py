"""Deploying on PostgreSQL + Redis (orchestration §1.1, §1.2, §4.5 #3, §9.4, §10; issue 6): the hub, then FRA and DEU
deployed concurrently (§13.2 "Concurrent different spokes"), each instance in its own database `dive_<c>` owned by role
`dive_<c>`, Redis keys under `dive:<c>:`, and nuke leaving none of it behind (§13.2 "Nuke leaves nothing behind").

Runs when DIVE_TEST_DATABASE_URL names the test server (its role may create databases and roles) and the Redis of
DIVE_TEST_REDIS_URL answers; uses Redis db 15. The server is shared with other tests: only `dive_usa`, `dive_fra`,
`dive_deu`, `orchestration` and their roles (`dive_orchestration_reader` for `orchestration`) are created or
dropped, and only the keys of those three prefixes."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from dive import catalog
from dive.orchestration import runtime
from dive.secrets import LocalKeystore
from harness import free_port_shift

from .cli import Deployment, port_is_free

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

CODES: Final = ("usa", "fra", "deu")
SEED_COUNT: Final = "20"
FAST_BACKOFF: Final = {"DIVE_VERIFY_BACKOFF": "1,2,4"}
DEFAULT_TEST_REDIS_URL: Final = "redis://127.0.0.1:6379/15"
# The machine is shared with other test runs; give slow starts room instead of failing on the default gates (§3.4).
READER_ROLE: Final = "dive_orchestration_reader"
HEALTH_TIMEOUTS: Final = {f"DIVE_HEALTH_TIMEOUT_{service.upper()}": "120" for service in catalog.SERVICES}


@dataclass(frozen=True)
class ServerDeployment(Deployment):
    """A deployment whose every `dive` invocation sees the PostgreSQL server and Redis URLs."""

    servers: Mapping[str, str] = field(default_factory=dict)

    def environ(self, **extra: str) -> dict[str, str]:
        return super().environ(**(dict(self.servers) | extra))


@dataclass(frozen=True)
class Deployed:
    deployment: ServerDeployment
    hub: subprocess.CompletedProcess[str]
    spokes: dict[str, tuple[int, str]]  # code → (exit code, stderr)
    status_during: list[dict[str, Any]]
    idle_ports: list[socket.socket]  # held until the nuke tests, which verify that every port is free

    def release_idle_ports(self) -> None:
        _close(self.idle_ports)


def _listen(ports: list[int]) -> list[socket.socket]:
    """Listening sockets on ports this module uses later (or never, for services not in this build): other suites
    picking a port shift at the same time then see this one as taken (tests/harness.py `free_port_shift`)."""
    held: list[socket.socket] = []
    try:
        for port in ports:
            held.append(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            held[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            held[-1].bind(("127.0.0.1", port))
            held[-1].listen()
    except OSError:
        _close(held)
        raise
    return held


def _close(sockets: list[socket.socket]) -> None:
    for held in sockets:
        held.close()


def _claim_shift() -> tuple[int, list[socket.socket], list[socket.socket]]:
    """A free shift with (the ports of services not in this build, the spoke ports) held; retried, because another
    suite may take a port between `free_port_shift` and the bind."""
    built = runtime.available_services()
    for _attempt in range(10):
        shift = free_port_shift(CODES)
        idle = [catalog.port(c, s, shift=shift) for c in CODES for s in catalog.SERVICES if s not in built]
        spokes = [catalog.port(c, s, shift=shift) for c in ("fra", "deu") for s in built]
        held: list[socket.socket] = []
        try:
            held = _listen(idle)
            return shift, held, _listen(spokes)
        except OSError:
            _close(held)
    raise RuntimeError("no port shift could be held for usa, fra and deu")


def _server_url() -> str:
    url = os.environ.get("DIVE_TEST_DATABASE_URL")
    if not url:
        pytest.skip("DIVE_TEST_DATABASE_URL is unset: the PostgreSQL + Redis deployment is not tested")
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _redis_url() -> str:
    url = os.environ.get("DIVE_TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    return url


def _sql(server_url: str, query: str, *params: object, database: str = "postgres") -> list[tuple[Any, ...]]:
    conninfo = make_url(server_url).set(drivername="postgresql", database=database)
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as connection:
        cursor = connection.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


def _our_databases(server_url: str) -> set[str]:
    names = [*(f"dive_{code}" for code in CODES), "orchestration"]
    return {row[0] for row in _sql(server_url, "SELECT datname FROM pg_database WHERE datname = ANY(%s)", names)}


def _our_roles(server_url: str) -> set[str]:
    names = [f"dive_{code}" for code in CODES]
    return {row[0] for row in _sql(server_url, "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", names)}


def _our_keys(redis_url: str, codes: tuple[str, ...] = CODES) -> list[str]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    return [key for code in codes for key in client.scan_iter(match=f"dive:{code}:*", count=1000)]


def _remove_leftovers(server_url: str, redis_url: str) -> None:
    """A crashed earlier run may have left our databases, roles or keys; drop exactly those."""
    for name in [*(f"dive_{code}" for code in CODES), "orchestration"]:
        _sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for role in [*(f"dive_{code}" for code in CODES), READER_ROLE]:
        _sql(server_url, f'DROP ROLE IF EXISTS "{role}"')
    keys = _our_keys(redis_url)
    if keys:
        redis.Redis.from_url(redis_url).delete(*keys)


@pytest.fixture(scope="module")
def servers() -> tuple[str, str]:
    server_url, redis_url = _server_url(), _redis_url()
    _remove_leftovers(server_url, redis_url)
    return server_url, redis_url


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, servers: tuple[str, str]) -> Iterator[Deployed]:
    """The hub, then `spoke deploy fra` ∥ `spoke deploy deu`, with `status --json` asked while both run."""
    server_url, redis_url = servers
    home = tmp_path_factory.mktemp("postgres") / "home"
    shift, idle, spoke_ports = _claim_shift()
    deployment = ServerDeployment(
        home, shift, servers={"DIVE_DATABASE_URL": server_url, "DIVE_REDIS_URL": redis_url, **HEALTH_TIMEOUTS}
    )
    children: dict[str, subprocess.Popen[str]] = {}
    try:
        hub = deployment.run("hub", "deploy", "--seed-count", SEED_COUNT)
        assert hub.returncode == 0, hub.stderr[-3000:]
        _close(spoke_ports)
        for code in ("fra", "deu"):
            children[code] = deployment.spawn("spoke", "deploy", code, "--seed-count", SEED_COUNT, **FAST_BACKOFF)
        status_during = []
        # A few answers prove `status` works mid-deploy; more would only slow the deployers on a small machine.
        while (
            any(child.poll() is None for child in children.values()) and len(status_during) < 3
        ) or not status_during:
            answer = deployment.run("status", "--json", timeout=60)
            assert answer.returncode == 0, answer.stderr[-2000:]
            status_during.append(json.loads(answer.stdout))
        spokes = {}
        for code, child in children.items():
            _stdout, stderr = child.communicate(timeout=240)
            spokes[code] = (child.returncode, stderr)
        yield Deployed(deployment, hub, spokes, status_during, idle)
    finally:
        for child in children.values():  # a failed assertion above must not leave a deployer holding its lock
            if child.poll() is None:
                child.kill()
                child.communicate()
        _close(idle + spoke_ports)
        deployment.run("nuke", "all", "--confirm")
        _remove_leftovers(server_url, redis_url)


def _url(deployment: Deployment, code: str, service: str) -> str:
    return f"https://localhost:{catalog.port(code, service, shift=deployment.shift)}"


def _decision(deployment: Deployment, code: str, resource_id: str) -> httpx.Response:
    """`GET /api/resources/{id}/decision` as testuser-<c>-1: a PDP decision the api caches in Redis."""
    keystore = LocalKeystore(deployment.home)
    form = {
        "grant_type": "password",
        "client_id": catalog.client_id(code),
        "client_secret": keystore.get(f"{code}/app-client-secret"),
        "username": f"testuser-{code}-1",
        "password": keystore.get("_shared/test-user-password"),
    }
    tls = ssl.create_default_context(cafile=str(deployment.home / "pki" / "bundle.pem"))
    with httpx.Client(verify=tls, timeout=10.0) as client:
        token_url = f"{_url(deployment, code, 'idp')}/realms/{catalog.realm(code)}/protocol/openid-connect/token"
        token = client.post(token_url, data=form).json()["access_token"]
        return client.get(
            f"{_url(deployment, code, 'api')}/api/resources/{resource_id}/decision",
            headers={"Authorization": f"Bearer {token}"},
        )


def _processes_of(home: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(home) in command and ("dive serve" in command or "supervisord" in command):
                pids.append(int(entry.name))
    return pids


def test_concurrent_spoke_deploys_on_postgres_both_complete_and_federated(deployed: Deployed):
    for code, (exit_code, stderr) in deployed.spokes.items():
        assert exit_code == 0, f"{code}: {stderr[-3000:]}"
        assert "federation verify 16/16" in stderr
    for code in CODES:
        assert deployed.deployment.instance(code)["state"] == "COMPLETE"
    assert all(document["schema"] == "dive.status/1" for document in deployed.status_during)
    assert all(document["orchestration_db"]["reachable"] for document in deployed.status_during)


def test_federation_verify_passes_for_both_spokes(deployed: Deployed):
    for code in ("FRA", "DEU"):
        answer = deployed.deployment.run("federation", "verify", code, "--json", **FAST_BACKOFF)
        report = json.loads(answer.stdout)
        assert answer.returncode == 0 and report["result"] == "pass", answer.stdout[-2000:]


def test_each_instance_keeps_its_documents_in_its_own_database_owned_by_its_role(deployed: Deployed, servers):
    server_url, _redis_url = servers
    for code in CODES:
        [(owner,)] = _sql(
            server_url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", f"dive_{code}"
        )
        [(documents,)] = _sql(server_url, "SELECT count(*) FROM resources", database=f"dive_{code}")
        tables = _sql(
            server_url, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'", database=f"dive_{code}"
        )
        assert (owner, tables) == (f"dive_{code}", [(f"dive_{code}",)])
        assert documents == int(SEED_COUNT)


def test_services_get_the_instance_database_as_its_role_and_the_redis_prefix(deployed: Deployed):
    config = json.loads((deployed.deployment.home / "instances" / "fra" / "config.json").read_text())
    environment = config["programs"]["fra-api"]["environment"]
    assert make_url(environment["DIVE_DATABASE_URL"]).username == "dive_fra"
    assert make_url(environment["DIVE_DATABASE_URL"]).database == "dive_fra"
    assert "***" in environment["DIVE_DATABASE_URL"]  # config.json never holds the role's password
    assert environment["DIVE_REDIS_PREFIX"] == "dive:fra:"
    assert LocalKeystore(deployed.deployment.home).get("fra/db-password") is not None


def test_hub_api_reads_the_orchestration_db_as_the_read_only_role_not_the_server_role(deployed: Deployed, servers):
    server_url, _redis_url = servers
    config = json.loads((deployed.deployment.home / "instances" / "usa" / "config.json").read_text())
    orchestration = make_url(
        config["programs"][catalog.supervisor_program("usa", "api")]["environment"]["DIVE_ORCH_DATABASE_URL"]
    )
    assert (orchestration.username, orchestration.database) == (READER_ROLE, "orchestration")
    assert orchestration.username != make_url(server_url).username and orchestration.password == "***"
    tls = ssl.create_default_context(cafile=str(deployed.deployment.home / "pki" / "bundle.pem"))
    metrics = httpx.get(f"{_url(deployed.deployment, 'usa', 'api')}/metrics", verify=tls, timeout=10).text
    assert 'dive_deployment_state{instance_code="USA",state="COMPLETE"} 1.0' in metrics  # the role can read


def test_hub_verify_checks_redis_with_a_ping(deployed: Deployed):
    answer = deployed.deployment.run("hub", "verify", "--json")
    checks = {check["id"]: check for check in json.loads(answer.stdout)["checks"]}
    assert answer.returncode == 0, answer.stdout[-2000:]
    assert checks["redis"]["status"] == "pass" and "PING" in checks["redis"]["detail"]
    assert checks["orch-db"]["status"] == "pass"


def test_cached_decisions_carry_the_instance_prefix(deployed: Deployed, servers):
    server_url, redis_url = servers
    for code in CODES:
        [(resource_id,)] = _sql(server_url, "SELECT resource_id FROM resources LIMIT 1", database=f"dive_{code}")
        assert _decision(deployed.deployment, code, resource_id).status_code == 200
    assert {key.split(":")[1] for key in _our_keys(redis_url)} == set(CODES)
    assert all(key.startswith(f"dive:{key.split(':')[1]}:decision:") for key in _our_keys(redis_url))


def test_rotating_deus_role_password_alters_the_role_and_keeps_deu_working(deployed: Deployed, servers):
    server_url, _redis_url = servers
    query = "SELECT rolpassword FROM pg_authid WHERE rolname = 'dive_deu'"
    [(verifier_before,)] = _sql(server_url, query)
    answer = deployed.deployment.run("--instance", "deu", "secrets", "rotate", "db-password")
    assert answer.returncode == 0, answer.stdout + answer.stderr[-2000:]
    [(verifier_after,)] = _sql(server_url, query)
    assert verifier_after != verifier_before
    assert deployed.deployment.run("spoke", "verify", "deu").returncode == 0


def test_nuke_spoke_fra_drops_only_its_database_role_and_keys(deployed: Deployed, servers):
    server_url, redis_url = servers
    # Cached decisions expire and are flushed when the registry changes; these markers only go when nuke takes them.
    markers = [f"dive:{code}:test-marker" for code in CODES]
    redis.Redis.from_url(redis_url).mset(dict.fromkeys(markers, "1"))
    deployed.release_idle_ports()
    answer = deployed.deployment.run("nuke", "spoke", "fra", "--confirm")
    assert answer.returncode == 0, answer.stdout + answer.stderr[-2000:]
    assert _our_databases(server_url) == {"dive_usa", "dive_deu", "orchestration"}
    assert _our_roles(server_url) == {"dive_usa", "dive_deu"}
    assert not _our_keys(redis_url, ("fra",))
    assert redis.Redis.from_url(redis_url).exists("dive:usa:test-marker", "dive:deu:test-marker") == 2
    assert deployed.deployment.run("hub", "verify").returncode == 0


def test_nuke_all_leaves_no_database_role_key_process_or_port(deployed: Deployed, servers):
    server_url, redis_url = servers
    deployment = deployed.deployment
    deployed.release_idle_ports()
    answer = deployment.run("nuke", "all", "--confirm")
    assert answer.returncode == 0, answer.stdout + answer.stderr[-2000:]
    assert "nothing left behind" in answer.stdout
    assert _our_databases(server_url) == set() and _our_roles(server_url) == set()
    assert _sql(server_url, "SELECT 1 FROM pg_roles WHERE rolname = %s", READER_ROLE) == []
    assert _our_keys(redis_url) == []
    assert _processes_of(deployment.home) == [] and not deployment.home.exists()
    ports = [catalog.port(code, service, shift=deployment.shift) for code in CODES for service in catalog.SERVICES]
    assert all(port_is_free(port) for port in ports)
