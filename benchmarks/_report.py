"""Shared pieces of the benchmarks: timing statistics and the printed table (measured, never asserted)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

__all__ = ["Row", "latency_row", "print_table"]


@dataclass(frozen=True)
class Row:
    what: str
    median_ms: float | None
    p95_ms: float | None
    throughput: float | None  # operations per second
    target: str
    anchor: str


def latency_row(what: str, samples_s: Sequence[float], elapsed_s: float, *, target: str, anchor: str) -> Row:
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return Row(what, statistics.median(ordered) * 1000, p95 * 1000, len(ordered) / elapsed_s, target, anchor)


def print_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    table = Table(title=title)
    for column in ("measurement", "median ms", "p95 ms", "throughput /s", "target", "anchor (upstream/physical)"):
        table.add_column(column, justify="left" if column in {"measurement", "target"} else "right")
    for row in rows:
        table.add_row(
            row.what,
            "-" if row.median_ms is None else f"{row.median_ms:.3f}",
            "-" if row.p95_ms is None else f"{row.p95_ms:.3f}",
            "-" if row.throughput is None else f"{row.throughput:,.0f}",
            row.target,
            row.anchor,
        )
    console = Console(width=160)
    console.print(table)
    for note in notes:
        console.print(f"  {note}")
