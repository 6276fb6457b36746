"""Rendering of supervisord's configuration (spec/orchestration.md §3.1): pure functions, no I/O."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "HEALTH_PATHS",
    "PRIORITIES",
    "TIERS",
    "ProgramSpec",
    "home_identifier",
    "render_group_conf",
    "render_supervisord_conf",
    "socket_path",
]

# §3.4: the readiness endpoint the gate polls for each service.
HEALTH_PATHS: Final[Mapping[str, str]] = {
    "pdp": "/health",
    "idp": "/health/ready",
    "kas": "/health/ready",
    "api": "/api/health/ready",
    "web": "/health",
}
TIERS: Final = (("pdp", "idp", "kas"), ("api",), ("web",))  # §3.3; stop in reverse
PRIORITIES: Final[Mapping[str, int]] = {
    **{"pdp": 100, "idp": 110, "kas": 120, "api": 200, "web": 300},
    **{"alertmanager": 400, "prometheus": 410},  # the monitoring group (§12.2)
}
_MAX_SOCKET_PATH: Final = 100


@dataclass(frozen=True, kw_only=True)
class ProgramSpec:
    """One `[program:<group>-<svc>]`: the service's command, environment (§9.4) and log file."""

    service: str
    program: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    log_file: Path
    port: int


def home_identifier(home: Path) -> str:
    return hashlib.sha256(str(home).encode()).hexdigest()[:12]


def socket_path(home: Path) -> Path:
    """`supervisor/supervisor.sock`, or `${XDG_RUNTIME_DIR:-/tmp}/dive-<12 hex>.sock` past 100 bytes (§1.3)."""
    preferred = home / "supervisor" / "supervisor.sock"
    if len(os.fsencode(preferred)) <= _MAX_SOCKET_PATH:
        return preferred
    runtime_dir = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    return runtime_dir / f"dive-{home_identifier(home)}.sock"


def render_supervisord_conf(home: Path, socket: Path) -> str:
    directory = home / "supervisor"
    return "\n".join(
        [
            "[unix_http_server]",
            f"file={_escape(str(socket))}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={_escape(str(directory / 'supervisord.log'))}",
            f"pidfile={_escape(str(directory / 'supervisord.pid'))}",
            f"childlogdir={_escape(str(directory))}",
            "minfds=4096",
            f"identifier=dive-{home_identifier(home)}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{_escape(str(socket))}",
            "",
            "[include]",
            f"files={_escape(str(directory / 'conf.d'))}/*.conf",
            "",
        ]
    )


def render_group_conf(group: str, programs: Sequence[ProgramSpec], *, directory: Path) -> str:
    """`[group:<group>]` and one `[program:…]` per service, started by the CLI in tier order (autostart off)."""
    lines = [f"[group:{group}]", f"programs={','.join(spec.program for spec in programs)}", ""]
    for spec in programs:
        lines += [
            f"[program:{spec.program}]",
            f"command={' '.join(_escape(_quote_argument(part)) for part in spec.command)}",
            f"directory={_escape(str(directory))}",
            "autostart=false",
            "autorestart=true",
            "startsecs=2",
            "startretries=3",
            "stopsignal=TERM",
            "stopwaitsecs=15",
            "stopasgroup=true",
            "killasgroup=true",
            f"priority={PRIORITIES[spec.service]}",
            "redirect_stderr=true",
            f"stdout_logfile={_escape(str(spec.log_file))}",
            "stdout_logfile_maxbytes=10MB",
            "stdout_logfile_backups=5",
            f"environment={_environment(spec.environment)}",
            "",
        ]
    return "\n".join(lines)


def _environment(values: Mapping[str, str]) -> str:
    """`KEY="value",…`: values double-quoted, `%` written `%%` (§3.1)."""
    return ",".join(f'{key}="{_escape(value).replace(chr(34), chr(92) + chr(34))}"' for key, value in values.items())


def _quote_argument(argument: str) -> str:
    return f'"{argument}"' if any(char.isspace() for char in argument) else argument


def _escape(text: str) -> str:
    return text.replace("%", "%%")
