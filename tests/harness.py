"""Start real DIVE service processes for tests and wait until they are ready over verified HTTPS.

Every integration test reuses this: `start_service("pdp", "usa", home=tmp_home)` spawns
`python -m dive serve pdp --instance usa --home … --port …`, waits on the service's readiness route
(orchestration §3.4) with the deployment CA, and stops it by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

import httpx

from dive import catalog
from dive.orchestration.liveness import can_bind_port
from dive.pki import ca_bundle_path, ssl_context_for

__all__ = [
    "READY_PATHS",
    "ServiceProcess",
    "ServiceStartError",
    "free_port_shift",
    "pick_free_port",
    "spawn_service",
    "start_service",
    "wait_until_ready",
]

# orchestration §3.4: the endpoint each service is gated on.
READY_PATHS: Final[Mapping[str, str]] = {
    "pdp": "/health",
    "idp": "/health/ready",
    "kas": "/health/ready",
    "api": "/api/health/ready",
    "web": "/health",
}
STOP_TIMEOUT_S: Final = 10.0
LOG_TAIL_LINES: Final = 40


class ServiceStartError(RuntimeError):
    """The service exited or did not become ready in time; the message carries the tail of its log."""


def pick_free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it; a race with another binder is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_EPHEMERAL_PORTS_START: Final = 32768  # Linux default: client sockets elsewhere in the suite never hold lower ports


def _every_port(shift: int) -> set[int]:
    """Every usable offset of the five services plus Prometheus and Alertmanager under `shift`."""
    ports = {catalog.port("usa", service, shift=shift, offset=offset) for service in catalog.SERVICES
             for offset in range(catalog.MAX_OFFSET + 1)}  # fmt: skip
    return ports | {catalog.prometheus_port(shift=shift), catalog.alertmanager_port(shift=shift)}


def _disjoint_shifts() -> tuple[int, ...]:
    """Shifts from 10000 whose port sets are pairwise disjoint and below the ephemeral range, so suites that run at
    the same time on different shifts never share a port (orchestration §13.1)."""
    chosen: list[tuple[int, set[int]]] = []
    for shift in range(10000, _EPHEMERAL_PORTS_START, 100):
        ports = _every_port(shift)
        if max(ports) < _EPHEMERAL_PORTS_START and all(ports.isdisjoint(other) for _, other in chosen):
            chosen.append((shift, ports))
    return tuple(shift for shift, _ in chosen)


_SHIFT_CANDIDATES: Final = _disjoint_shifts()


def free_port_shift(codes: Sequence[str] = ("usa", "fra", "deu"), *, monitoring: bool = False) -> int:
    """A `DIVE_PORT_SHIFT` under which every catalog port of `codes` (and with `monitoring`, Prometheus' and
    Alertmanager's) can be bound now (orchestration §13.1)."""
    # A random order keeps two suites started at the same moment (helpers, developers) off the same shift.
    for shift in random.sample(_SHIFT_CANDIDATES, len(_SHIFT_CANDIDATES)):
        ports = [catalog.port(code, service, shift=shift) for code in codes for service in catalog.SERVICES]
        if monitoring:
            ports += [catalog.prometheus_port(shift=shift), catalog.alertmanager_port(shift=shift)]
        if all(can_bind_port(port) for port in ports):
            return shift
    raise ServiceStartError(f"no port shift leaves the ports of {', '.join(codes)} free")


@dataclass(kw_only=True)
class ServiceProcess:
    service: str
    instance: str
    port: int
    home: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        return ca_bundle_path(self.home)

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client on `url` that verifies TLS against the deployment CA."""
        return httpx.Client(base_url=self.url, verify=ssl_context_for(self.ca_bundle), **kwargs)  # type: ignore[arg-type]

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log written)"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, wait, then SIGKILL; returns the exit status. Safe to call twice."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        return self.process.returncode

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_service(
    service: str,
    instance: str,
    *,
    home: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    timeout_s: float = 30.0,
) -> ServiceProcess:
    """Run `dive serve <service>` for `instance` under `home` and return once its readiness route answers 200."""
    port = port if port is not None else pick_free_port()
    argv = [sys.executable, "-m", "dive", "serve", service, "--instance", instance, "--home", str(home)]
    return spawn_service(
        [*argv, "--port", str(port)],
        service=service,
        instance=instance,
        home=home,
        port=port,
        env=env,
        timeout_s=timeout_s,
    )


def spawn_service(
    argv: Sequence[str],
    *,
    service: str,
    instance: str,
    home: Path,
    port: int,
    env: Mapping[str, str] | None = None,
    ready_path: str | None = None,
    timeout_s: float = 30.0,
) -> ServiceProcess:
    """Spawn any command that serves `service` on `port`, log to `home`, and wait until it is ready."""
    log_path = home / "instances" / instance.lower() / "logs" / f"{service}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, "DIVE_HOME": str(home), "DIVE_ENV": "test", **(env or {})}
    with log_path.open("ab") as log:
        process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=environ)
    handle = ServiceProcess(
        service=service, instance=instance, port=port, home=home, log_path=log_path, process=process
    )
    try:
        wait_until_ready(handle, ready_path or READY_PATHS.get(service, "/health/ready"), timeout_s=timeout_s)
    except BaseException:
        handle.stop()
        raise
    return handle


def wait_until_ready(handle: ServiceProcess, path: str, *, timeout_s: float) -> None:
    """Poll `path` over verified HTTPS until 200, the process exits, or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    interval, last = 0.05, "no answer yet"
    while True:
        if handle.ca_bundle.exists():
            last = _probe(handle, path)
            if last == "ready":
                return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServiceStartError(
                f"{handle.service} of {handle.instance} not ready on {handle.url}{path} after {timeout_s:g} s "
                f"({last}); log tail:\n{handle.log_tail()}"
            )
        try:  # waiting on the process doubles as the pause between probes
            code = handle.process.wait(timeout=min(interval, remaining))
        except subprocess.TimeoutExpired:
            interval = min(interval * 1.5, 0.5)
            continue
        raise ServiceStartError(
            f"{handle.service} of {handle.instance} exited with {code}; log tail:\n{handle.log_tail()}"
        )


def _probe(handle: ServiceProcess, path: str) -> str:
    try:
        with httpx.Client(verify=ssl_context_for(handle.ca_bundle), timeout=2.0) as client:
            response = client.get(f"{handle.url}{path}")
    except httpx.TransportError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ready" if response.status_code == 200 else f"HTTP {response.status_code}: {response.text[:200]}"
