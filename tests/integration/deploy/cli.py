"""Running the real `dive` command line against a test deployment home (orchestration §13.1: own home, own shift)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dive.store import create_engine_for, writer_session_factory
from dive.store.models.orchestration import ErrorRecord

__all__ = ["Deployment", "port_is_free"]


@dataclass(frozen=True)
class Deployment:
    """A DIVE_HOME with its port shift; `run` invokes `python -m dive` there and returns the finished process."""

    home: Path
    shift: int

    def environ(self, **extra: str) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DIVE_")}
        return environ | {"DIVE_HOME": str(self.home), "DIVE_PORT_SHIFT": str(self.shift), "NO_COLOR": "1"} | extra

    def run(self, *args: str, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dive", *args],
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "dive", *args],
            env=self.environ(**extra),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def instance(self, code: str) -> dict[str, Any]:
        [row] = [row for row in self.json("status")["instances"] if row["code"] == code.upper()]
        return row

    def events(self, code: str, run_id: str) -> list[dict[str, Any]]:
        path = self.home / "instances" / code / "runs" / f"{run_id}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def error_codes(self, code: str) -> list[str]:
        engine = create_engine_for(f"sqlite:///{self.home / 'orchestration.db'}")
        try:
            with writer_session_factory(engine)() as session:
                query = select(ErrorRecord.error_code).where(ErrorRecord.instance_code == code)
                return list(session.scalars(query))
        finally:
            engine.dispose()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0
