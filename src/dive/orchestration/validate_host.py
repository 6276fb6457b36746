"""The host-wide rows of `dive validate` (spec/orchestration.md §11.3): Python and modules, supervisord, DIVE_HOME,
disk, the port plan and free ports, CA and certificates, Redis, monitoring and the legacy registry file."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from dive import catalog
from dive.federation.legacy import legacy_registry_path
from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.preflight import REQUIRED_MODULES
from dive.orchestration.liveness import can_bind_port
from dive.orchestration.validation_rows import ValidationRow
from dive.pki import PkiError, service_certificate_paths
from dive.pki.ca import ca_certificate_path
from dive.pki.certificates import certificate_not_after

__all__ = [
    "certificates_row",
    "disk_row",
    "home_row",
    "legacy_registry_row",
    "monitoring_row",
    "port_plan_collisions",
    "port_plan_row",
    "ports_free_row",
    "python_row",
    "redis_row",
    "supervisord_row",
]

_GIB: Final = 1024**3

_EXPIRY_WARNING: Final = dt.timedelta(days=30)

_NETWORK_FILESYSTEMS: Final = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afs", "ceph", "glusterfs", "lustre"}
)


def port_plan_collisions(shift: int) -> list[str]:
    """Every clash of the port plan under `shift` (§1.2): each offset × service, Prometheus and Alertmanager."""
    try:
        owners: dict[int, str] = {
            catalog.prometheus_port(shift=shift): "prometheus",
            catalog.alertmanager_port(shift=shift): "alertmanager",
        }
        planned = [
            (catalog.port(catalog.HUB, service, shift=shift, offset=offset), f"{service} of offset {offset}")
            for offset in sorted({entry.offset for entry in catalog.CATALOG.values()} | set(catalog.TEST_OFFSETS))
            for service in catalog.SERVICES
        ]
    except catalog.CatalogError as exc:
        return [str(exc)]
    clashes = []
    for port, owner in planned:
        if port in owners:
            clashes.append(f"port {port}: {owners[port]} and {owner}")
        owners.setdefault(port, owner)
    return clashes


def python_row() -> ValidationRow:
    version = ".".join(str(part) for part in sys.version_info[:3])
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return ValidationRow(
            "python", None, "FAIL", f"modules missing: {', '.join(missing)}", "pip install -e . (in the venv)"
        )
    return ValidationRow("python", None, "OK", f"Python {version}; {len(REQUIRED_MODULES)} modules import")


def supervisord_row(home: Path) -> ValidationRow:
    if importlib.util.find_spec("supervisor.supervisord") is None:
        return ValidationRow("supervisord", None, "FAIL", "supervisord is not installed", "pip install supervisor")
    pid = runtime.Supervisor(home).pid()
    return ValidationRow("supervisord", None, "OK", f"present; {f'running (pid {pid})' if pid else 'not running'}")


def home_row(home: Path) -> ValidationRow:
    if not home.exists():
        parent = next(path for path in home.parents if path.exists())
        writable = os.access(parent, os.W_OK)
        return ValidationRow(
            "home",
            None,
            "OK" if writable else "FAIL",
            f"{home} does not exist yet; {parent} is {'writable' if writable else 'not writable'}",
        )
    problems = []
    filesystem = _filesystem_type(home)
    if filesystem in _NETWORK_FILESYSTEMS:
        problems.append(f"on a {filesystem} network filesystem (flock needs a local one)")
    mode = home.stat().st_mode & 0o777
    if mode != 0o700:
        problems.append(f"mode {mode:o}, not 700")
    if not os.access(home, os.W_OK):
        problems.append("not writable")
    if problems:
        return ValidationRow("home", None, "FAIL", f"{home}: {', '.join(problems)}", f"chmod 700 {home}")
    return ValidationRow("home", None, "OK", f"{home}: local ({filesystem}), 0700, writable")


def _filesystem_type(path: Path) -> str:
    """The type of the mount holding `path`, from /proc/mounts (longest mount point that is a prefix)."""
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in lines:
        fields = line.split()
        mount = fields[1] if len(fields) >= 3 else ""
        contains = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
        if mount and contains and len(mount) > len(best):
            best, kind = mount, fields[2]
    return kind


def disk_row(home: Path) -> ValidationRow:
    existing = next(path for path in (home, *home.parents) if path.exists())
    free = shutil.disk_usage(existing).free
    detail = f"{free / _GIB:.1f} GiB free under {existing}"
    if free < _GIB:
        return ValidationRow("disk", None, "FAIL", detail, "free disk space: deploys need 1 GiB")
    if free < 2 * _GIB:
        return ValidationRow("disk", None, "WARN", detail, "free disk space: below 2 GiB")
    return ValidationRow("disk", None, "OK", detail)


def port_plan_row(shift: int) -> ValidationRow:
    clashes = port_plan_collisions(shift)
    if clashes:
        return ValidationRow("ports.plan", None, "FAIL", "; ".join(clashes[:3]), "choose another DIVE_PORT_SHIFT")
    return ValidationRow("ports.plan", None, "OK", f"collision-free under shift {shift}")


def ports_free_row(home: Path, environ: Mapping[str, str], codes: Sequence[str]) -> ValidationRow:
    """The ports of every instance of this home (and the hub) that our supervisor is not running must be free."""
    supervisor = runtime.Supervisor(home)
    table = supervisor.process_table() if supervisor.pid() else []
    running = {row.program for row in table if row.state == "RUNNING"}
    shift = catalog.port_shift(environ)
    busy, free = [], 0
    for code in sorted({catalog.HUB, *codes}):
        for service in catalog.SERVICES:
            if catalog.supervisor_program(code, service) in running:
                continue
            port = catalog.port(code, service, shift=shift)
            if can_bind_port(port):
                free += 1
            else:
                busy.append(f"{port} ({service} of {code.upper()})")
    if busy:
        return ValidationRow(
            "ports.free", None, "FAIL", f"held by a process that is not ours: {', '.join(busy)}", "stop that process"
        )
    return ValidationRow("ports.free", None, "OK", f"the {free} ports of stopped or undeployed services are free")


def certificates_row(home: Path, facts: Sequence[InstanceFacts]) -> ValidationRow:
    """The CA and every deployed service certificate: FAIL when missing or expired, WARN within 30 days."""
    ca = ca_certificate_path(home)
    if not ca.exists():
        return ValidationRow("ca", None, "SKIP", "n/a: no CA yet (nothing deployed)")
    paths = [("CA", ca)] + [
        (f"{one.display} {service}", service_certificate_paths(home, one.code, service)[0])
        for one in facts
        for service in catalog.SERVICES
        if service_certificate_paths(home, one.code, service)[0].exists()
    ]
    now = dt.datetime.now(dt.UTC)
    try:
        expiries = [(name, certificate_not_after(path)) for name, path in paths]
    except (OSError, ValueError, PkiError) as exc:
        return ValidationRow("ca", None, "FAIL", f"a certificate is unreadable: {exc}", "redeploy the instance")
    expired = [name for name, after in expiries if after <= now]
    if expired:
        return ValidationRow("ca", None, "FAIL", f"expired: {', '.join(expired)}", "redeploy to re-issue them")
    soon = [f"{name} ({after:%Y-%m-%d})" for name, after in expiries if after - now < _EXPIRY_WARNING]
    if soon:
        return ValidationRow("ca", None, "WARN", f"expiring within 30 days: {', '.join(soon)}", "redeploy")
    return ValidationRow("ca", None, "OK", f"CA and {len(paths) - 1} service certificates valid for 30+ days")


def redis_row(environ: Mapping[str, str]) -> ValidationRow:
    url = environ.get("DIVE_REDIS_URL")
    if not url:
        return ValidationRow("redis", None, "SKIP", "n/a: embedded cache (DIVE_REDIS_URL is not set)")
    try:
        import redis  # only DIVE_REDIS_URL needs it
    except ModuleNotFoundError:
        return ValidationRow("redis", None, "FAIL", "DIVE_REDIS_URL is set; redis-py is missing", "pip install redis")
    try:
        with redis.Redis.from_url(url, socket_timeout=2.0) as client:
            client.ping()
    except redis.RedisError as exc:
        return ValidationRow("redis", None, "FAIL", f"PING failed: {type(exc).__name__}", "start Redis")
    return ValidationRow("redis", None, "OK", "PING answered")


def monitoring_row(home: Path) -> ValidationRow:
    supervisor = runtime.Supervisor(home)
    rows = [row for row in supervisor.process_table() if row.group == "monitoring"] if supervisor.pid() else []
    if not rows:
        return ValidationRow("monitoring", None, "SKIP", "n/a: monitoring is not running (dive monitoring up)")
    down = [row.program for row in rows if row.state != "RUNNING"]
    if down:
        return ValidationRow("monitoring", None, "FAIL", f"not running: {', '.join(down)}", "dive monitoring up")
    return ValidationRow("monitoring", None, "OK", f"{len(rows)} programs running")


def legacy_registry_row(environ: Mapping[str, str]) -> ValidationRow:
    root = Path(environ.get("DIVE_PROJECT_ROOT") or Path.cwd())
    path = legacy_registry_path(environ, root)
    if path.exists():
        return ValidationRow("legacy-registry", None, "WARN", f"{path} is not imported", "dive federation migrate")
    return ValidationRow("legacy-registry", None, "OK", f"no legacy registry file at {path}")
