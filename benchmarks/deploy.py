"""Deployment wall time and peak memory (orchestration §13.4), measured, never asserted.

Runs, on a fresh DIVE_HOME with its own port shift: `nuke all`, `hub deploy`, then `spoke deploy fra` and
`spoke deploy deu` in parallel (what `spoke deploy-all fra deu --parallel 2` does), each with N documents
(`DIVE_BENCH_SEED_COUNT`, default 5,000), then prints time per instance and per phase next to the targets and the
upstream figures, and the peak RSS of each deployer and of the running services. Ends with `nuke all`.

    .venv/bin/python benchmarks/deploy.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.table import Table

SHIFT: Final = os.environ.get("DIVE_BENCH_PORT_SHIFT", "10000")
SEED_COUNT: Final = os.environ.get("DIVE_BENCH_SEED_COUNT", "5000")
# A child that runs one CLI command and reports its peak RSS (KiB) on its last stdout line.
_MEASURE: Final = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
TARGETS: Final = {"hub": ("< 60 s", "3 min"), "spoke": ("< 45 s each", "4.5 min"), "total": ("< 2.5 min", "12 min")}
PHASE_TARGETS_S: Final = {
    "hub": {
        "PREFLIGHT": 2,
        "INITIALIZATION": 3,
        "DATABASE": 2,
        "SERVICES": 8,
        "IDENTITY": 5,
        "KAS": 2,
        "SEEDING": 30,
        "VERIFICATION": 5,
    },
    "spoke": {
        "PREFLIGHT": 2,
        "INITIALIZATION": 3,
        "DEPLOYMENT": 10,
        "CONFIGURATION": 10,
        "SEEDING": 20,
        "VERIFICATION": 5,
    },
}


@dataclass(frozen=True)
class Measured:
    label: str
    code: str
    exit_code: int
    wall_s: float
    peak_rss_mib: float


def _environ(home: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DIVE_")}
    return base | {"DIVE_HOME": str(home), "DIVE_PORT_SHIFT": SHIFT, "NO_COLOR": "1"}


def _start(home: Path, *args: str) -> tuple[subprocess.Popen[str], float]:
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "dive", *args]
    return subprocess.Popen(command, env=_environ(home), stdout=subprocess.PIPE, text=True), time.perf_counter()


def _finish(label: str, code: str, started: tuple[subprocess.Popen[str], float]) -> Measured:
    process, began = started
    output, _ = process.communicate()
    wall = time.perf_counter() - began
    exit_code, rss_kib = (int(part) for part in output.split()[-2:])
    return Measured(label, code, exit_code, wall, rss_kib / 1024)


def _phase_durations(home: Path, code: str) -> dict[str, float]:
    runs = sorted((home / "instances" / code / "runs").glob("*.jsonl"))
    events = [json.loads(line) for line in runs[-1].read_text().splitlines()] if runs else []
    return {e["phase"]: e["duration_s"] for e in events if e["event"] == "phase_completed"}


def _services_rss_mib(home: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-m", "dive", "ps", "--json"], env=_environ(home), capture_output=True, text=True, check=False
    )
    total_kib = 0
    for row in json.loads(result.stdout or "[]"):
        status = Path(f"/proc/{row['pid']}/status")
        if row["pid"] and status.exists():
            total_kib += next(
                int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS")
            )
    return total_kib / 1024


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="dive-bench-")) / "home"
    _finish("nuke", "-", _start(home, "nuke", "all", "--confirm"))
    began = time.perf_counter()
    hub = _finish("hub deploy", "usa", _start(home, "hub", "deploy", "--seed-count", SEED_COUNT))
    fra_deu = [
        _start(home, "spoke", "deploy", code, "--seed-count", SEED_COUNT, "--skip-federation")
        for code in ("fra", "deu")
    ]
    spokes = [_finish(f"spoke deploy {code}", code, run) for code, run in zip(("fra", "deu"), fra_deu, strict=True)]
    total = time.perf_counter() - began
    services_mib = _services_rss_mib(home)
    _print(home, hub, spokes, total, services_mib)
    _finish("nuke", "-", _start(home, "nuke", "all", "--confirm"))


def _print(home: Path, hub: Measured, spokes: list[Measured], total: float, services_mib: float) -> None:
    console = Console(width=160)
    table = Table(title=f"dive deploy · {SEED_COUNT} documents per instance · embedded store · shift {SHIFT}")
    for column in ("measurement", "exit", "wall s", "peak RSS MiB (deployer)", "target", "upstream"):
        table.add_column(column, justify="left" if column in {"measurement", "target", "upstream"} else "right")
    for row, role in [(hub, "hub"), *((spoke, "spoke") for spoke in spokes)]:
        table.add_row(row.label, str(row.exit_code), f"{row.wall_s:.1f}", f"{row.peak_rss_mib:.0f}", *TARGETS[role])
    table.add_row("hub + FRA + DEU (spokes in parallel)", "", f"{total:.1f}", "", *TARGETS["total"])
    console.print(table)
    phases = Table(title="time per phase (s); `slow` = over twice the indicative target")
    for column in ("instance", "phase", "seconds", "target", ""):
        phases.add_column(column)
    for code, role in (("usa", "hub"), ("fra", "spoke"), ("deu", "spoke")):
        for phase, seconds in _phase_durations(home, code).items():
            target = PHASE_TARGETS_S[role].get(phase)
            slow = "slow" if target is not None and seconds > 2 * target else ""
            phases.add_row(code.upper(), phase, f"{seconds:.1f}", str(target), slow)
    console.print(phases)
    console.print(f"  services of the three instances: {services_mib:.0f} MiB RSS in total; cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
