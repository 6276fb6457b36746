"""PREFLIGHT (spec/orchestration.md §4.3 #1): read-only checks that the machine can host the instance."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
from typing import Final

from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.orchestration.liveness import can_bind_port

__all__ = ["REQUIRED_MODULES", "run_preflight"]

REQUIRED_MODULES: Final = (
    "fastapi",
    "starlette",
    "uvicorn",
    "authlib",
    "joserfc",
    "cryptography",
    "sqlalchemy",
    "alembic",
    "supervisor",
    "httpx",
    "rich",
    "typer",
    "prometheus_client",
    "regopy",
)
_GIB: Final = 1024**3
_MIN_SQLITE: Final = (3, 35)


def run_preflight(facts: InstanceFacts) -> str:
    """Raise `PhaseError` naming the first failed check; return the summary line of §2.3."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise PhaseError("preflight_modules", f"modules missing: {', '.join(missing)}; run `pip install -e .`")
    if facts.production and facts.database_url.startswith("sqlite"):
        raise PhaseError("preflight_embedded_store", "production refuses the embedded store; set DIVE_DATABASE_URL")
    if sqlite3.sqlite_version_info < _MIN_SQLITE:
        raise PhaseError("preflight_sqlite", f"SQLite {sqlite3.sqlite_version} is older than 3.35")
    free = _check_home(facts)
    ports = _check_ports(facts)
    return f"ports {' '.join(str(p) for p in ports)} free or ours; disk {free // _GIB} GiB free"


def _check_home(facts: InstanceFacts) -> int:
    home = next(path for path in (facts.home, *facts.home.parents) if path.exists())  # read-only: create nothing
    if not os.access(home, os.W_OK):
        raise PhaseError("preflight_home", f"DIVE_HOME {home} is not writable; choose another with --home")
    free = shutil.disk_usage(home).free
    if free < _GIB:
        raise PhaseError("preflight_disk", f"only {free // 2**20} MiB free under {home}; DIVE needs 1 GiB")
    return free


def _check_ports(facts: InstanceFacts) -> list[int]:
    ours = _running_programs(facts)
    ports = []
    for service in facts.services:
        port = facts.port(service)
        program = f"{'hub' if facts.is_hub else facts.code}-{service}"
        if program not in ours and not can_bind_port(port):
            raise PhaseError(
                "preflight_port_in_use",
                f"port {port} ({service} of {facts.display}) is held by a process that is not ours",
                remediation="stop that process, or move every port with DIVE_PORT_SHIFT (a multiple of 10000)",
            )
        ports.append(port)
    return ports


def _running_programs(facts: InstanceFacts) -> set[str]:
    supervisor = runtime.Supervisor(facts.home)
    if not supervisor.is_running():
        return set()
    return {row.program for row in supervisor.process_table() if row.state == "RUNNING"}
