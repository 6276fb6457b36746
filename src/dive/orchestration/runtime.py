"""The local runtime (spec/orchestration.md §3): one supervisord per DIVE_HOME, one process group per instance, started
health-gated in tiers (pdp, idp, kas → api → web) and stopped in reverse. The client is XML-RPC over the unix socket.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
from supervisor.xmlrpc import Faults, SupervisorTransport

from dive import catalog
from dive.orchestration.errors import ServiceHealthTimeoutError, ServiceStartError, SupervisorError
from dive.orchestration.liveness import process_command_line
from dive.orchestration.supervisor_config import (
    HEALTH_PATHS,
    TIERS,
    ProgramSpec,
    render_group_conf,
    render_supervisord_conf,
    socket_path,
)
from dive.pki.ca import ca_bundle_path
from dive.pki.tls import ssl_context_for
from dive.service.errors import ServiceFactoryError
from dive.service.factories import resolve_factory

__all__ = ["DEFAULT_HEALTH_TIMEOUT_S", "ProcessRow", "Supervisor", "available_services", "service_programs"]

DEFAULT_HEALTH_TIMEOUT_S: Final[Mapping[str, float]] = {"pdp": 30, "idp": 60, "kas": 30, "api": 60, "web": 30}
START_TIMEOUT_S: Final = 10.0
LOG_TAIL_LINES: Final = 20
_GATE_FIRST_INTERVAL_S: Final = 0.1
_GATE_MAX_INTERVAL_S: Final = 1.0
_FAILED_STATES: Final = frozenset({"FATAL", "EXITED", "BACKOFF"})
_PROJECT_ROOT: Final = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ProcessRow:
    """One line of `dive ps` (`dive.ps/1` without the health probe)."""

    group: str
    program: str
    state: str
    pid: int | None
    uptime_s: float | None


def available_services() -> tuple[str, ...]:
    """The services of this build, in start order (a missing service module is simply not deployed yet)."""
    present = []
    for tier in TIERS:
        for service in tier:
            try:
                resolve_factory(service)
            except ServiceFactoryError:
                continue
            present.append(service)
    return tuple(present)


def service_programs(home: Path, code: str, services: Sequence[str], environ: Mapping[str, str]) -> list[ProgramSpec]:
    """The programs of instance `code`: `python -m dive serve <svc> --instance <c> --home <home>` with the
    non-secret settings of §9.4 that exist today."""
    shift = catalog.port_shift(environ)
    group = catalog.supervisor_group(code)
    base_env = {
        "DIVE_INSTANCE": code.upper(),
        "DIVE_ENV": _service_env(environ),
        "DIVE_HOME": str(home),
        "DIVE_PUBLIC_HOST": environ.get("DIVE_PUBLIC_HOST") or "localhost",
        "DIVE_BIND": environ.get("DIVE_BIND") or "127.0.0.1",
        "DIVE_PORT_SHIFT": str(shift),
        "DIVE_CA_BUNDLE": str(ca_bundle_path(home)),
    }
    programs = []
    for service in services:
        port = catalog.port(code, service, shift=shift)
        programs.append(
            ProgramSpec(
                service=service,
                program=f"{group}-{service}",
                command=(sys.executable, "-m", "dive", "serve", service, "--instance", code, "--home", str(home)),
                environment=base_env | {"DIVE_SERVICE": service, "DIVE_PORT": str(port)},
                log_file=home / "instances" / code / "logs" / f"{service}.log",
                port=port,
            )
        )
    return programs


def _service_env(environ: Mapping[str, str]) -> str:
    """§1.1: `local` is `development` for services (`test` with DIVE_TEST_HOOKS=1); production stays production."""
    env = (environ.get("DIVE_ENV") or "local").lower()
    if env == "production":
        return "production"
    return "test" if environ.get("DIVE_TEST_HOOKS") == "1" or env == "test" else "development"


class Supervisor:
    """The supervisord of one DIVE_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.directory = home / "supervisor"
        self.socket = socket_path(home)
        self.conf = self.directory / "supervisord.conf"
        self.pidfile = self.directory / "supervisord.pid"

    def _proxy(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def is_running(self) -> bool:
        try:
            return self._proxy().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False

    def pid(self) -> int | None:
        try:
            return int(self._proxy().getPID())
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return None

    def ensure_running(self) -> None:
        """Under `supervisor/config.lock`: reuse a live supervisord, else clean up and start one (§3.1)."""
        with self._config_lock():
            if self.is_running():
                return
            self.pidfile.unlink(missing_ok=True)
            self.socket.unlink(missing_ok=True)
            self._kill_orphans()
            self.conf.write_text(render_supervisord_conf(self.home, self.socket))
            (self.directory / "conf.d").mkdir(mode=0o700, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
                check=True,
                capture_output=True,
                timeout=START_TIMEOUT_S,
            )
            deadline = time.monotonic() + START_TIMEOUT_S
            while not self.is_running():
                if time.monotonic() > deadline:
                    raise SupervisorError(
                        f"supervisord did not answer on {self.socket} within {START_TIMEOUT_S:g} s; "
                        f"see {self.directory / 'supervisord.log'}"
                    )
                time.sleep(0.1)

    def apply_group(self, code: str, programs: Sequence[ProgramSpec]) -> None:
        self.install_group(catalog.supervisor_group(code), programs)

    def install_group(self, group: str, programs: Sequence[ProgramSpec]) -> None:
        """Write `conf.d/<group>.conf` (0600, atomically), reload, and (re)add the group if new or changed."""
        for spec in programs:
            spec.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._config_lock():
            target = self.directory / "conf.d" / f"{group}.conf"
            temporary = target.with_suffix(".tmp")
            temporary.write_text(render_group_conf(group, programs, directory=_PROJECT_ROOT))
            temporary.chmod(0o600)
            temporary.replace(target)
            proxy = self._proxy()
            added, changed, _removed = proxy.reloadConfig()[0]
            if group in changed:
                proxy.stopProcessGroup(group, True)
                proxy.removeProcessGroup(group)
            if group in added or group in changed:
                proxy.addProcessGroup(group)

    def start_group(self, code: str, programs: Sequence[ProgramSpec], environ: Mapping[str, str]) -> None:
        """Start tier by tier; each tier's health gates must pass before the next tier starts (§3.3)."""
        by_service = {spec.service: spec for spec in programs}
        proxy = self._proxy()
        for tier in TIERS:
            tier_specs = [by_service[service] for service in tier if service in by_service]
            started = time.time()
            for spec in tier_specs:
                if proxy.getProcessInfo(self._name(code, spec))["statename"] != "RUNNING":
                    proxy.startProcess(self._name(code, spec), False)
            for spec in tier_specs:
                self._gate(code, spec, _health_timeout(spec.service, environ), environ, since=started)

    def stop_group(self, code: str, programs: Sequence[ProgramSpec]) -> None:
        """Stop in reverse tier order: web → api → (kas, idp, pdp)."""
        by_service = {spec.service: spec for spec in programs}
        proxy = self._proxy()
        for tier in reversed(TIERS):
            for service in reversed(tier):
                if service in by_service:
                    name = self._name(code, by_service[service])
                    if proxy.getProcessInfo(name)["statename"] in ("RUNNING", "STARTING", "BACKOFF"):
                        proxy.stopProcess(name, True)

    def start_named_group(self, group: str) -> None:
        """Start the programs of a group that has no health gate (monitoring); supervisord waits out `startsecs`."""
        failed = [r for r in self._proxy().startProcessGroup(group, True) if r["status"] != Faults.SUCCESS]
        if failed:
            raise ServiceStartError(
                f"{', '.join(r['name'] for r in failed)} failed to start: {failed[0]['description']}",
                {"group": group, "results": failed},
            )

    def remove_group(self, group: str) -> None:
        """Stop a group and forget it: its conf file goes too, so a restarted supervisord does not list it."""
        with self._config_lock():
            proxy = self._proxy()
            proxy.stopProcessGroup(group, True)
            proxy.removeProcessGroup(group)
            (self.directory / "conf.d" / f"{group}.conf").unlink(missing_ok=True)

    def process_table(self) -> list[ProcessRow]:
        now = time.time()
        rows = []
        for info in self._proxy().getAllProcessInfo():
            running = info["statename"] == "RUNNING"
            rows.append(
                ProcessRow(
                    group=info["group"],
                    program=info["name"],
                    state=info["statename"],
                    pid=info["pid"] or None,
                    uptime_s=round(now - info["start"], 1) if running else None,
                )
            )
        return rows

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop every program and supervisord itself; returns once its pid is gone."""
        pid = self.pid()
        if pid is None:
            return
        self._proxy().shutdown()
        deadline = time.monotonic() + timeout_s
        while _exists(pid):
            if time.monotonic() > deadline:
                raise SupervisorError(f"supervisord (pid {pid}) is still running {timeout_s:g} s after shutdown")
            time.sleep(0.1)

    def _name(self, code: str, spec: ProgramSpec) -> str:
        return f"{catalog.supervisor_group(code)}:{spec.program}"

    def _gate(
        self, code: str, spec: ProgramSpec, timeout_s: float, environ: Mapping[str, str], *, since: float
    ) -> None:
        host = environ.get("DIVE_BIND") or "127.0.0.1"
        url = f"https://{'127.0.0.1' if host == '0.0.0.0' else host}:{spec.port}{HEALTH_PATHS[spec.service]}"
        deadline, interval, last = time.monotonic() + timeout_s, _GATE_FIRST_INTERVAL_S, "no answer yet"
        while True:
            info = self._proxy().getProcessInfo(self._name(code, spec))
            state = info["statename"]
            # A crash restarted within supervisord's retries may never be seen in BACKOFF by polling; its stop time
            # (whole seconds, set at every exit) tells that the program died after it was started.
            if state in _FAILED_STATES or info["stop"] > since:
                raise ServiceStartError(
                    f"{spec.program} failed to start ({state}); last log lines follow",
                    {"program": spec.program, "state": state, "log_tail": _tail(spec.log_file)},
                )
            last = _probe(url, ca_bundle_path(self.home))
            if last == "ready":
                return
            if time.monotonic() > deadline:
                raise ServiceHealthTimeoutError(
                    f"{spec.service} of {code.upper()} did not become healthy within {timeout_s:g} s ({last})",
                    {"program": spec.program, "url": url, "log_tail": _tail(spec.log_file)},
                )
            time.sleep(interval)
            interval = min(interval * 1.5, _GATE_MAX_INTERVAL_S)

    @contextmanager
    def _config_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.directory / "config.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _kill_orphans(self) -> None:
        """Services of this DIVE_HOME left by a killed supervisord still hold their ports (§3.1 step 3)."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            argv = process_command_line(int(entry.name)) or []
            if _is_our_service(argv, self.home):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except ProcessLookupError:
                    continue


def _is_our_service(argv: Sequence[str], home: Path) -> bool:
    joined = " ".join(argv)
    return "-m dive serve " in joined and f"--home {home}" in joined


def _health_timeout(service: str, environ: Mapping[str, str]) -> float:
    raw = environ.get(f"DIVE_HEALTH_TIMEOUT_{service.upper()}")
    return float(raw) if raw else DEFAULT_HEALTH_TIMEOUT_S[service]


def _probe(url: str, bundle: Path) -> str:
    if not bundle.exists():
        return "the CA bundle does not exist yet"
    try:
        with httpx.Client(verify=ssl_context_for(bundle), timeout=2.0) as client:
            response = client.get(url)
    except httpx.TransportError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ready" if response.status_code == 200 else f"HTTP {response.status_code}"


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
    except FileNotFoundError:
        return "(no log written)"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
