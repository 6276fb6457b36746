"""The rows of `dive validate` (spec/orchestration.md §11.3): OK, WARN, FAIL or SKIP, one per checked part, and the
`dive.validate/1` document built from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from dive.orchestration.deploy.checks import CheckResult
from dive.orchestration.events import iso_z

__all__ = ["ValidationRow", "count_statuses", "merge_rows", "row_from_check", "validation_document"]

Status = Literal["OK", "WARN", "FAIL", "SKIP"]
_SEVERITY: Final[Mapping[Status, int]] = {"SKIP": 0, "OK": 1, "WARN": 2, "FAIL": 3}


@dataclass(frozen=True)
class ValidationRow:
    id: str
    instance: str | None  # upper-case code; None for host-wide rows
    status: Status
    detail: str
    remediation: str | None = None


def row_from_check(result: CheckResult, instance: str) -> ValidationRow:
    """An instance check (§4.5: pass/fail/skip) as a validate row (§11.3: OK/FAIL/SKIP)."""
    status: Status = {"pass": "OK", "fail": "FAIL", "skip": "SKIP"}[result.status]
    return ValidationRow(result.id, instance, status, result.detail, result.remediation)


def merge_rows(check_id: str, rows: Sequence[ValidationRow]) -> ValidationRow:
    """One row for several probes of the same part: the worst status, and the details that explain it."""
    worst = max((row.status for row in rows), key=_SEVERITY.__getitem__)
    explaining = [row for row in rows if row.status == worst]
    detail = "; ".join(row.detail for row in explaining)
    remediation = next((row.remediation for row in explaining if row.remediation), None)
    return ValidationRow(check_id, rows[0].instance, worst, detail, remediation)


def count_statuses(rows: Sequence[ValidationRow]) -> dict[str, int]:
    return {status: sum(1 for row in rows if row.status == status) for status in ("OK", "WARN", "FAIL", "SKIP")}


def validation_document(rows: Sequence[ValidationRow], *, home: Path, now: dt.datetime) -> dict[str, object]:
    """`dive.validate/1`: the rows, their counts and `result` (fail when any row is FAIL)."""
    counts = count_statuses(rows)
    return {
        "schema": "dive.validate/1",
        "generated_at": iso_z(now),
        "dive_home": str(home),
        "result": "fail" if counts["FAIL"] else "pass",
        "counts": counts,
        "checks": [vars(row) for row in rows],
    }
