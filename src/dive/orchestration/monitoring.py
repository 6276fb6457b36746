"""`dive monitoring up|down|status` (orchestration §12.2): Debian's Prometheus and Alertmanager as the supervisor group
`monitoring`, configured from the deployed instances' rendered `config.json`."""

from __future__ import annotations

import json
import shutil
import time
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from dive import catalog
from dive.observability.alert_rules import ALERT_RULES_FILE
from dive.orchestration.errors import OrchestrationError
from dive.orchestration.monitoring_config import (
    ScrapeTarget,
    alert_webhook_url,
    render_alertmanager_config,
    render_prometheus_config,
    rendered_interval_s,
    scrape_interval_s,
)
from dive.orchestration.runtime import Supervisor
from dive.orchestration.supervisor_config import ProgramSpec
from dive.pki.ca import ca_bundle_path

__all__ = [
    "MONITORING_GROUP",
    "MonitoringUnavailableError",
    "monitoring_down",
    "monitoring_status",
    "monitoring_up",
    "refresh_monitoring",
    "scrape_targets",
]

MONITORING_GROUP: Final = "monitoring"
INSTALL_HINT: Final = "apt-get install prometheus prometheus-alertmanager"
READY_TIMEOUT_S: Final = 30.0
_HTTP_TIMEOUT_S: Final = 2.0
_BINARIES: Final = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager"}


class MonitoringUnavailableError(OrchestrationError):
    """A binary is missing or Prometheus/Alertmanager did not become ready (exit 1)."""

    code = "monitoring_unavailable"


@dataclass(frozen=True)
class _Paths:
    home: Path

    @property
    def directory(self) -> Path:
        return self.home / "monitoring"

    @property
    def prometheus_yml(self) -> Path:
        return self.directory / "prometheus.yml"

    @property
    def alertmanager_yml(self) -> Path:
        return self.directory / "alertmanager.yml"

    @property
    def rules(self) -> Path:
        return self.directory / "rules"

    def data(self, component: str) -> Path:
        return self.directory / "data" / component

    @property
    def logs(self) -> Path:
        return self.directory / "logs"


def scrape_targets(home: Path) -> list[ScrapeTarget]:
    """Every service of every instance whose settings were rendered (`instances/<c>/config.json`)."""
    targets = []
    for config in sorted((home / "instances").glob("*/config.json")):
        try:
            body = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being rewritten by a deploy: the next render picks it up
        for program in body.get("programs", {}).values():
            environment = program.get("environment", {})
            targets.append(ScrapeTarget(str(body["instance"]), environment["DIVE_SERVICE"], int(program["port"])))
    return targets


def monitoring_up(home: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """Render the configuration, start (or keep) the group and wait until both answer `/-/ready`."""
    binaries = _find_binaries()
    paths = _Paths(home)
    _render(paths, environ)
    supervisor = Supervisor(home)
    supervisor.ensure_running()
    supervisor.install_group(MONITORING_GROUP, _programs(paths, binaries, environ))
    supervisor.start_named_group(MONITORING_GROUP)
    for name, port in (("Prometheus", _prometheus_port(environ)), ("Alertmanager", _am_port(environ))):
        log_hint = f"see {paths.logs / (name.lower() + '.log')}"
        _wait_ready(name, port, log_hint)
        refused = _reload(name, port)  # a process kept running must read the configuration rendered above
        if refused is not None:
            raise MonitoringUnavailableError(refused, remediation=log_hint)
    return monitoring_status(home, environ)


def monitoring_down(home: Path) -> bool:
    """Stop and remove the group (`validate` then shows monitoring as not configured); False when it was absent."""
    supervisor = Supervisor(home)
    if not _program_states(supervisor):
        return False
    supervisor.remove_group(MONITORING_GROUP)
    return True


def monitoring_status(home: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """`dive.monitoring/1`: program states and the active targets' health from `/api/v1/targets`."""
    supervisor = Supervisor(home)
    states = _program_states(supervisor)
    prometheus_port = _prometheus_port(environ)
    targets, error = _targets(prometheus_port) if states.get("prometheus") == "RUNNING" else ([], None)
    return {
        "schema": "dive.monitoring/1",
        "running": all(states.get(name) == "RUNNING" for name in _BINARIES),
        "prometheus": {"url": f"http://127.0.0.1:{prometheus_port}", "state": states.get("prometheus", "ABSENT")},
        "alertmanager": {"url": f"http://127.0.0.1:{_am_port(environ)}", "state": states.get("alertmanager", "ABSENT")},
        "targets": {
            "up": sum(1 for target in targets if target["health"] == "up"),
            "total": len(targets),
            "items": targets,
            "error": error,
        },
    }


def refresh_monitoring(home: Path, environ: Mapping[str, str]) -> str | None:
    """Re-render the targets and reload Prometheus if it runs (a SERVICES step, §4.3 #4): never fatal, so
    failures come back as a sentence for the event log instead of an exception."""
    supervisor = Supervisor(home)
    if _program_states(supervisor).get("prometheus") != "RUNNING":
        return None
    paths = _Paths(home)
    try:
        # A deploy sees DIVE_ENV normalised to `local`: keep the interval `monitoring up` chose.
        interval_s = rendered_interval_s(paths.prometheus_yml.read_text(encoding="utf-8"))
        _render_targets(paths, environ, interval_s or scrape_interval_s(environ))
    except OSError as exc:
        return f"monitoring config not rendered: {exc}"
    return _reload("Prometheus", _prometheus_port(environ))


def _find_binaries() -> dict[str, str]:
    found = {name: shutil.which(binary) for name, binary in _BINARIES.items()}
    missing = [_BINARIES[name] for name, path in found.items() if path is None]
    if missing:
        raise MonitoringUnavailableError(
            f"{' and '.join(missing)} not found on PATH", {"missing": missing}, remediation=INSTALL_HINT
        )
    return {name: str(path) for name, path in found.items()}


def _render(paths: _Paths, environ: Mapping[str, str]) -> None:
    for directory in (paths.directory, paths.rules, paths.data("prometheus"), paths.data("alertmanager"), paths.logs):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(ALERT_RULES_FILE, paths.rules / ALERT_RULES_FILE.name)
    _render_targets(paths, environ, scrape_interval_s(environ))
    _write(paths.alertmanager_yml, render_alertmanager_config(webhook_url=alert_webhook_url(environ)))


def _render_targets(paths: _Paths, environ: Mapping[str, str], interval_s: int) -> None:
    prometheus = render_prometheus_config(
        scrape_targets(paths.home),
        host=environ.get("DIVE_PUBLIC_HOST") or "localhost",
        ca_file=ca_bundle_path(paths.home),
        rules_dir=paths.rules,
        alertmanager_port=_am_port(environ),
        interval_s=interval_s,
    )
    _write(paths.prometheus_yml, prometheus)


def _write(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)


def _programs(paths: _Paths, binaries: Mapping[str, str], environ: Mapping[str, str]) -> list[ProgramSpec]:
    prometheus_port, alertmanager_port = _prometheus_port(environ), _am_port(environ)
    commands = {
        "alertmanager": (
            binaries["alertmanager"],
            f"--config.file={paths.alertmanager_yml}",
            f"--storage.path={paths.data('alertmanager')}",
            f"--web.listen-address=127.0.0.1:{alertmanager_port}",
            "--cluster.listen-address=",  # a single local Alertmanager: no gossip port
        ),
        "prometheus": (
            binaries["prometheus"],
            f"--config.file={paths.prometheus_yml}",
            f"--storage.tsdb.path={paths.data('prometheus')}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--web.enable-lifecycle",
        ),
    }
    ports = {"alertmanager": alertmanager_port, "prometheus": prometheus_port}
    return [
        ProgramSpec(
            service=name,
            program=f"{MONITORING_GROUP}-{name}",
            command=command,
            environment={"HOME": str(paths.directory)},
            log_file=paths.logs / f"{name}.log",
            port=ports[name],
        )
        for name, command in commands.items()
    ]


def _prometheus_port(environ: Mapping[str, str]) -> int:
    return catalog.prometheus_port(shift=catalog.port_shift(environ))


def _am_port(environ: Mapping[str, str]) -> int:
    return catalog.alertmanager_port(shift=catalog.port_shift(environ))


def _program_states(supervisor: Supervisor) -> dict[str, str]:
    """`prometheus`/`alertmanager` → supervisor state; empty when supervisord is not (or no longer) answering."""
    if not supervisor.is_running():
        return {}
    try:
        rows = supervisor.process_table()
    except (OSError, xmlrpc.client.Error):  # supervisord stopped since the check above
        return {}
    prefix = f"{MONITORING_GROUP}-"
    return {row.program.removeprefix(prefix): row.state for row in rows if row.group == MONITORING_GROUP}


def _wait_ready(name: str, port: int, log_hint: str) -> None:
    deadline, last = time.monotonic() + READY_TIMEOUT_S, "no answer yet"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=_HTTP_TIMEOUT_S)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        time.sleep(0.2)
    raise MonitoringUnavailableError(
        f"{name} on port {port} was not ready within {READY_TIMEOUT_S:g} s ({last})",
        remediation=log_hint,
    )


def _reload(name: str, port: int) -> str | None:
    """POST /-/reload; None on success, else why not (the process keeps its previous configuration)."""
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/-/reload", timeout=_HTTP_TIMEOUT_S * 5)
    except httpx.TransportError as exc:
        return f"{name} reload failed: {exc}"
    if response.status_code != 200:
        return f"{name} reload failed: HTTP {response.status_code} {response.text.strip()[:200]}"
    return None


def _targets(port: int) -> tuple[list[dict[str, Any]], str | None]:
    """The active targets, or none and why Prometheus' API did not list them."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/targets?state=active", timeout=_HTTP_TIMEOUT_S)
        response.raise_for_status()
        active = response.json()["data"]["activeTargets"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return [], f"Prometheus targets unavailable: {exc}"
    targets = [
        {
            "instance_code": target["labels"].get("instance_code"),
            "service": target["labels"].get("service"),
            "url": target.get("scrapeUrl"),
            "health": target.get("health"),
            "last_error": target.get("lastError") or None,
        }
        for target in active
    ]
    return targets, None
