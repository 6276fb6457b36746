"""The local runtime (orchestration §3) with a real supervisord running the real pdp service."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dive.orchestration.errors import ServiceStartError
from dive.orchestration.liveness import is_process_alive
from dive.orchestration.runtime import Supervisor, available_services, service_programs
from dive.pki import ensure_ca
from harness import free_port_shift

PORT_SHIFT = str(free_port_shift(("usa",)))  # orchestration §13.1: below the ephemeral port range


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def supervisor(dive_home: Path) -> Iterator[Supervisor]:
    runtime = Supervisor(dive_home)
    try:
        yield runtime
    finally:
        runtime.shutdown()


def test_pdp_group_starts_health_gated_lists_in_ps_and_stops_leaving_nothing_running(
    supervisor: Supervisor, dive_home: Path
):
    environ = {"DIVE_PORT_SHIFT": PORT_SHIFT, "DIVE_ENV": "local"}
    ensure_ca(dive_home)
    programs = service_programs(dive_home, "usa", ["pdp"], environ)
    assert _port_is_free(programs[0].port)

    supervisor.ensure_running()
    supervisor.apply_group("usa", programs)
    supervisor.start_group("usa", programs, environ)
    [row] = supervisor.process_table()

    assert (row.group, row.program, row.state) == ("hub", "hub-pdp", "RUNNING")
    assert row.pid is not None and not _port_is_free(programs[0].port)
    assert (dive_home / "instances" / "usa" / "logs" / "pdp.log").exists()

    supervisor.stop_group("usa", programs)

    assert supervisor.process_table()[0].state == "STOPPED"
    assert not is_process_alive(row.pid, None)
    assert _port_is_free(programs[0].port)


def test_ensure_running_twice_reuses_the_same_supervisord(supervisor: Supervisor):
    supervisor.ensure_running()
    first = supervisor.pid()

    supervisor.ensure_running()

    assert first is not None and supervisor.pid() == first


def test_available_services_lists_the_pdp_first():
    assert available_services()[0] == "pdp"


def test_service_that_cannot_start_fails_its_gate_with_the_log_tail(supervisor: Supervisor, dive_home: Path):
    environ = {"DIVE_PORT_SHIFT": PORT_SHIFT}
    ensure_ca(dive_home)
    [pdp] = service_programs(dive_home, "usa", ["pdp"], environ)
    broken = replace(pdp, environment={**pdp.environment, "DIVE_LOG_LEVEL": "LOUD"})
    supervisor.ensure_running()
    supervisor.apply_group("usa", [broken])

    with pytest.raises(ServiceStartError, match="hub-pdp failed to start") as err:
        supervisor.start_group("usa", [broken], environ)

    assert err.value.code == "service_start_failed"
    assert "DIVE_LOG_LEVEL" in str(err.value.detail["log_tail"])
