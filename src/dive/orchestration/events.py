"""The event log of a run, `instances/<c>/runs/<run_id>.jsonl` (spec/orchestration.md §4.6), and run ids (§0)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

from dive.store.models.base import utc_now

__all__ = ["KEPT_RUN_LOGS", "Event", "EventLog", "iso_z", "new_run_id", "run_log_path"]

KEPT_RUN_LOGS: Final = 50

Event = Mapping[str, object]


def new_run_id(now: datetime | None = None) -> str:
    """`YYYYMMDDTHHMMSSZ-xxxxxx`: the UTC start time and 6 random hex digits."""
    return f"{(now or utc_now()).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def iso_z(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_log_path(home: Path, code: str, run_id: str) -> Path:
    return home / "instances" / code / "runs" / f"{run_id}.jsonl"


class EventLog:
    """Appends one JSON object per line and passes each event to the listeners (progress display)."""

    def __init__(self, path: Path, *, run_id: str, instance: str, listeners: tuple[Callable[[Event], None], ...] = ()):
        self.path = path
        self._run_id, self._instance, self._seq = run_id, instance, 0
        self._listeners = listeners
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._file = path.open("a", encoding="utf-8")
        _prune(path.parent, keep=KEPT_RUN_LOGS)

    def emit(self, event: str, *, phase: str | None = None, **fields: object) -> Event:
        """Write `{"ts","run_id","instance","seq","event","phase"?,…}`; `fields` are duration_s, message, data…"""
        self._seq += 1
        record: dict[str, object] = {
            "ts": iso_z(utc_now()),
            "run_id": self._run_id,
            "instance": self._instance,
            "seq": self._seq,
            "event": event,
        }
        if phase is not None:
            record["phase"] = phase
        record.update({key: value for key, value in fields.items() if value is not None})
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()  # a SIGKILLed run keeps every event written before it died
        for listener in self._listeners:
            listener(record)
        return record

    def close(self) -> None:
        self._file.close()


def _prune(directory: Path, *, keep: int) -> None:
    logs = sorted(directory.glob("*.jsonl"))  # run ids sort by start time
    for old in logs[:-keep]:
        old.unlink(missing_ok=True)
