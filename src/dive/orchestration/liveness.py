"""Is a recorded process still the same live process (spec/orchestration.md §6.3), and is a port free for ours?

A pid alone can be reused: the start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`) tells a
reused pid apart from the original holder.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Final

__all__ = [
    "can_bind_port",
    "current_process_start_ticks",
    "is_process_alive",
    "process_command_line",
    "process_start_ticks",
]

_PROC: Final = Path("/proc")
_START_TIME_FIELD: Final = 22


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when there is no such process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[_START_TIME_FIELD - 3])


def is_process_alive(pid: int, start_ticks: int | None) -> bool:
    """The pid exists, is not a zombie, and (when recorded) started at `start_ticks`."""
    try:
        state = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if state[state.rindex(")") + 2] == "Z":
        return False
    return start_ticks is None or process_start_ticks(pid) == start_ticks


def process_command_line(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def current_process_start_ticks() -> int | None:
    return process_start_ticks(os.getpid())


def can_bind_port(port: int, host: str = "127.0.0.1") -> bool:
    """A service could listen on `port` now. Binding (not connecting) also sees a client socket holding the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
