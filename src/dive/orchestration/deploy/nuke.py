"""`dive nuke all|hub|spoke CODE` (spec/orchestration.md §10): stop and remove the groups, delete the instance
directories, secrets and orchestration rows, the PostgreSQL databases and Redis keys (`nuke_stores`), then verify that
nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
import xmlrpc.client
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, delete
from sqlalchemy.exc import SQLAlchemyError
from supervisor.xmlrpc import SupervisorTransport

from dive import catalog
from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.orchestration.deploy.inventory import known_instances, open_existing_orchestration_db
from dive.orchestration.deploy.nuke_keep import acquire_nuke_lock, clean_state, strip_instance
from dive.orchestration.deploy.nuke_stores import leftover_stores, remove_stores
from dive.orchestration.deploy.unregister import remove_spoke_from_hub
from dive.orchestration.errors import PreconditionError
from dive.orchestration.liveness import process_command_line
from dive.orchestration.locks import DeployLock
from dive.orchestration.monitoring import refresh_monitoring
from dive.orchestration.supervisor_config import socket_path
from dive.store import writer_session_factory
from dive.store.models.orchestration import (
    CircuitBreaker,
    DeploymentLock,
    DeploymentState,
    DeploymentStep,
    ErrorRecord,
    InstanceOffset,
    PipelineRun,
    StateTransition,
)

__all__ = ["NukeReport", "nuke_all", "nuke_instance", "refuse_unknown_instance"]

_KILL_WAIT_S: Final = 10.0
_ROW_TABLES: Final = (
    StateTransition,
    DeploymentState,
    DeploymentStep,
    ErrorRecord,
    CircuitBreaker,
    PipelineRun,
    InstanceOffset,
)


@dataclass
class NukeReport:
    scope: str
    processes: int = 0
    databases: int = 0
    secrets: int = 0
    rows: int = 0
    keys: int = 0
    remaining: list[str] = field(default_factory=list)
    kept_data: bool = False  # --keep-data

    def sentence(self) -> str:
        counts = (
            f"{self.processes} processes stopped, {self.databases} databases dropped, {self.secrets} secrets removed, "
            f"{self.rows} rows deleted" + (f", {self.keys} Redis keys deleted" if self.keys else "")
        )
        if self.kept_data:
            counts = f"{self.processes} processes stopped; databases, secrets and the CA kept"
        head = f"Nuked {self.scope}: {counts}"
        if self.remaining:
            return f"{head} — left behind: {'; '.join(self.remaining)}"
        return f"{head} — nothing left behind."


def nuke_all(home: Path, environ: Mapping[str, str], *, keep_data: bool = False, force: bool = False) -> NukeReport:
    """Every group, supervisord, orphaned services of this home, then the whole DIVE_HOME (all but the data with
    `keep_data`, see `nuke_keep`); `force` terminates live lock holders first."""
    report = NukeReport("ALL", kept_data=keep_data)
    engine = open_existing_orchestration_db(home, environ)
    codes = known_instances(home, engine) if home.exists() else []
    ports = [instance_facts(home, c, environ).port(s) for c in codes for s in catalog.SERVICES]
    with _locks(engine, home, codes, force=force):
        for code in codes if keep_data and engine is not None else []:
            clean_state(engine, code)
        supervisor = runtime.Supervisor(home)
        report.processes += (
            len([r for r in supervisor.process_table() if r.state == "RUNNING"]) if supervisor.is_running() else 0
        )
        supervisor.shutdown()
    if engine is not None:
        engine.dispose()
    report.processes += _kill_services(home)
    if keep_data:
        removed = [home / "supervisor"]
        shutil.rmtree(home / "supervisor", ignore_errors=True)
        for code in codes:
            removed += strip_instance(instance_facts(home, code, environ))
    else:
        removed = [home]
        _remove_stores(report, environ, codes, orchestration=True)
        shutil.rmtree(home, ignore_errors=True)
        report.remaining += leftover_stores(environ, codes, orchestration=True)
    socket_path(home).unlink(missing_ok=True)
    report.remaining += _leftovers(home, ports, paths=removed)
    return report


def nuke_instance(
    home: Path, environ: Mapping[str, str], code: str, *, keep_data: bool = False, force: bool = False
) -> NukeReport:
    """One instance: its group, hub registration, directory, secrets and orchestration rows; the hub also takes the
    orchestration DB. `keep_data` keeps databases, secrets and the CA (see `nuke_keep`)."""
    facts = instance_facts(home, code, environ)
    report = NukeReport(facts.display, kept_data=keep_data)
    engine = open_existing_orchestration_db(home, environ)
    with _locks(engine, home, [facts.code], force=force):
        if keep_data and engine is not None:
            clean_state(engine, facts.code)
        report.processes = _remove_group(home, facts.code, environ)
        if not facts.is_hub:
            report.remaining += remove_spoke_from_hub(home, environ, facts.code)
        if keep_data:
            removed = strip_instance(facts)
        else:
            removed = [facts.directory]
            _remove_instance_data(report, facts, environ)
    if engine is not None:
        report.rows = _delete_rows(engine, facts.code) if not (facts.is_hub or keep_data) else 0
        engine.dispose()
    if not keep_data:
        _remove_shared_data(report, facts, environ)
    if (unrefreshed := refresh_monitoring(home, environ)) is not None:
        report.remaining.append(unrefreshed)  # Prometheus would keep scraping the removed instance
    ports = [facts.port(service) for service in catalog.SERVICES]
    report.remaining += _leftovers(home, ports, paths=removed, group=catalog.supervisor_group(facts.code))
    if not keep_data:
        report.remaining += leftover_stores(environ, [facts.code], orchestration=facts.is_hub)
    return report


def _remove_instance_data(report: NukeReport, facts: InstanceFacts, environ: Mapping[str, str]) -> None:
    """The instance's databases and Redis keys, its directory and its secrets (`<c>/`, `kas/<c>/`, pair secrets)."""
    home = facts.home
    _remove_stores(report, environ, [facts.code], orchestration=False)
    shutil.rmtree(facts.directory, ignore_errors=True)
    secrets = facts.secrets
    for prefix in (f"{facts.code}/", f"kas/{facts.code}/"):
        report.secrets += secrets.delete_prefix(prefix)
        shutil.rmtree(home / "secrets" / prefix, ignore_errors=True)  # the emptied directories
    report.secrets += sum(
        1 for m in secrets.list("_federation/") if facts.code in m.path and not secrets.delete(m.path)
    )


def _remove_shared_data(report: NukeReport, facts: InstanceFacts, environ: Mapping[str, str]) -> None:
    """The orchestration DB with the hub; the CA and `_shared/` once no instance directory is left."""
    home = facts.home
    if facts.is_hub:
        _remove_stores(report, environ, [], orchestration=True)
        for suffix in ("", "-wal", "-shm"):
            (home / f"orchestration.db{suffix}").unlink(missing_ok=True)
    if not any((home / "instances").glob("*")):
        shutil.rmtree(home / "pki", ignore_errors=True)
        report.secrets += facts.secrets.delete_prefix("_shared/")


def _remove_stores(report: NukeReport, environ: Mapping[str, str], codes: list[str], *, orchestration: bool) -> None:
    removed = remove_stores(environ, codes, orchestration=orchestration)
    report.databases += removed.databases
    report.keys += removed.keys
    report.remaining += removed.failures


@contextlib.contextmanager
def _locks(engine: Engine | None, home: Path, codes: list[str], *, force: bool) -> Iterator[None]:
    """Every affected `deploy:*` guard, non-blocking: a live holder refuses the nuke (exit 2, §10) unless `force`."""
    held: list[DeployLock] = []
    try:
        if engine is not None:
            for code in codes:
                held.append(acquire_nuke_lock(engine, home, code, force=force))
        yield
    finally:
        for lock in held:
            with contextlib.suppress(SQLAlchemyError, OSError):  # the database may be gone (nuke hub, nuke all)
                lock.release()


def _remove_group(home: Path, code: str, environ: Mapping[str, str]) -> int:
    supervisor = runtime.Supervisor(home)
    if not supervisor.is_running():
        return 0
    group = catalog.supervisor_group(code)
    rows = [row for row in supervisor.process_table() if row.group == group]
    if rows:
        supervisor.stop_group(
            code, runtime.service_programs(home, code, [r.program.rsplit("-", 1)[-1] for r in rows], environ)
        )
        _remove_process_group(home, group)
    (home / "supervisor" / "conf.d" / f"{group}.conf").unlink(missing_ok=True)
    if not any((home / "supervisor" / "conf.d").glob("*.conf")):
        supervisor.shutdown()
    return sum(1 for row in rows if row.state == "RUNNING")


def _remove_process_group(home: Path, group: str) -> None:
    """`removeProcessGroup` over the unix socket (the runtime has no public remove; its group files stay ours)."""
    transport = SupervisorTransport(None, None, f"unix://{socket_path(home)}")
    xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor.removeProcessGroup(group)


def _delete_rows(engine: Engine, code: str) -> int:
    deleted = 0
    with writer_session_factory(engine).begin() as session:
        for table in (*_ROW_TABLES, DeploymentLock):
            deleted += session.execute(delete(table).where(table.instance_code == code)).rowcount or 0
    return deleted


def _kill_services(home: Path) -> int:
    """Orphaned `dive serve … --home <home>` processes (a SIGKILLed supervisord leaves them holding ports)."""
    victims = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _is_ours(int(entry.name), home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                victims.append(int(entry.name))
    deadline = time.monotonic() + _KILL_WAIT_S
    while any(_alive(pid) for pid in victims) and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(victims)


def _is_ours(pid: int, home: Path) -> bool:
    joined = " ".join(process_command_line(pid) or [])
    return ("-m dive serve " in joined or "supervisord" in joined) and str(home) in joined


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _leftovers(home: Path, ports: list[int], *, paths: list[Path], group: str | None = None) -> list[str]:
    remaining = [f"path {path}" for path in paths if path.exists()]
    remaining += [f"port {port} in use" for port in ports if not _port_free(port)]
    if group is None:
        remaining += [f"process {pid}" for pid in _our_pids(home)]
    return remaining


def _our_pids(home: Path) -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _is_ours(int(e.name), home)]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def refuse_unknown_instance(home: Path, code: str) -> None:
    if not (home / "instances" / code).exists():
        raise PreconditionError(f"unknown instance {code.upper()}: nothing is deployed under {home}")
