"""`federation verify CODE` as decisions without I/O (orchestration §8.5, §11.2): the 16 checks and their
prerequisites, the backoff schedule, which checks an attempt re-runs, and the report. `probes.py` does the I/O."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_SCHEDULE",
    "RETRY_HINT",
    "CheckOutcome",
    "CheckSpec",
    "ProbeResult",
    "VerifyReport",
    "next_delay",
    "parse_attempts",
    "parse_schedule",
    "run_verification",
    "verify_checks",
]

DEFAULT_SCHEDULE: Final = (5.0, 10.0, 20.0, 40.0, 60.0)
DEFAULT_ATTEMPTS: Final = 5
RETRY_HINT: Final = "identity provider changes can take a moment to propagate"
Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    requires: tuple[str, ...]
    remediation: str


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


@dataclass(frozen=True)
class CheckOutcome:
    id: str
    status: Status
    detail: str
    remediation: str | None
    duration_ms: float
    attempt: int | None  # the attempt on which it passed


@dataclass
class VerifyReport:
    hub: str  # upper case
    spoke: str
    schedule_s: tuple[float, ...]
    outcomes: dict[str, CheckOutcome] = field(default_factory=dict)
    attempts: int = 0
    duration_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.status != "skip")

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.status == "pass")

    @property
    def skipped(self) -> list[str]:
        return [o.id for o in self.outcomes.values() if o.status == "skip"]

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    def to_json(self) -> dict[str, object]:
        """`dive.federation.verify/1` (§11.2)."""
        return {
            "schema": "dive.federation.verify/1",
            "instance": self.spoke,
            "hub": self.hub,
            "spoke": self.spoke,
            "passed": self.passed,
            "total": self.total,
            "skipped": self.skipped,
            "result": "pass" if self.ok else "fail",
            "attempts": self.attempts,
            "schedule_s": list(self.schedule_s),
            "duration_s": round(self.duration_s, 3),
            "checks": [
                {
                    "id": o.id,
                    "status": o.status,
                    "detail": o.detail,
                    "remediation": o.remediation,
                    "duration_ms": round(o.duration_ms, 1),
                    "attempt": o.attempt,
                }
                for o in self.outcomes.values()
            ],
        }


def verify_checks(hub: str, spoke: str) -> tuple[CheckSpec, ...]:
    """The §8.5 table for hub `hub` and spoke `spoke` (lower case), in display order."""
    h, s, S = hub.lower(), spoke.lower(), spoke.upper()
    link, sync = f"dive federation link {S}", f"dive federation sync {S}"
    checks = [
        CheckSpec("registry", (), f"dive federation approve {S}"),
        CheckSpec("hub.idp", (), "dive hub up"),
        CheckSpec("spoke.idp", (), f"dive spoke up {s}"),
        CheckSpec("hub.realm", ("hub.idp",), "dive hub deploy"),
        CheckSpec("spoke.realm", ("spoke.idp",), f"dive spoke deploy {s}"),
        CheckSpec("hub.oidc", ("hub.realm",), "dive hub deploy"),
        CheckSpec("spoke.oidc", ("spoke.realm",), f"dive spoke deploy {s}"),
    ]
    for source, target in ((s, h), (h, s)):
        prefix = f"{source}@{target}"
        src, tgt = _side(source, s), _side(target, s)
        checks += [
            CheckSpec(f"{prefix}.idp", (f"{tgt}.realm", f"{src}.oidc"), link),
            CheckSpec(f"{prefix}.client", (f"{src}.realm",), link),
            CheckSpec(f"{prefix}.sso", (f"{prefix}.idp", f"{prefix}.client"), link),
            CheckSpec(f"{prefix}.token", ("registry", f"{src}.oidc"), sync),
        ]
    checks.append(CheckSpec("spoke.kas", ("registry",), sync))
    return tuple(checks)


def _side(code: str, spoke: str) -> str:
    return "spoke" if code == spoke else "hub"


def parse_schedule(raw: str | None) -> tuple[float, ...]:
    """`DIVE_VERIFY_BACKOFF` / `--backoff`: comma-separated non-negative seconds; unset → 5,10,20,40,60."""
    if raw is None or not raw.strip():
        return DEFAULT_SCHEDULE
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError as exc:
        raise ValueError(f"backoff schedule {raw!r} is not a comma-separated list of seconds") from exc
    if any(value < 0 for value in values):
        raise ValueError(f"backoff schedule {raw!r} has a negative delay")
    return values


def parse_attempts(raw: str | int | None) -> int:
    """`DIVE_VERIFY_ATTEMPTS` / `--attempts`: a positive integer; unset → 5."""
    if raw is None or raw == "":
        return DEFAULT_ATTEMPTS
    value = int(raw)
    if value < 1:
        raise ValueError(f"verification attempts {raw!r} must be at least 1")
    return value


def next_delay(schedule: Sequence[float], attempt: int) -> float:
    """The pause after failed attempt `attempt` (1-based): `schedule[min(k-1, len-1)]`; the last value caps."""
    return schedule[min(attempt - 1, len(schedule) - 1)]


def run_verification(
    checks: Sequence[CheckSpec],
    probe: Callable[[CheckSpec], ProbeResult],
    *,
    hub: str,
    spoke: str,
    attempts: int,
    schedule: Sequence[float],
    skips: Mapping[str, str],
    on_retry: Callable[[int, int, int, int, float], None],
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyReport:
    """Run the checks; attempt k re-runs only those not yet passed, prerequisites first (display order)."""
    report = VerifyReport(hub=hub.upper(), spoke=spoke.upper(), schedule_s=tuple(schedule))
    started = time.monotonic()
    for check in checks:
        if check.id in skips:
            report.outcomes[check.id] = CheckOutcome(check.id, "skip", skips[check.id], None, 0.0, None)
    for attempt in range(1, attempts + 1):
        report.attempts = attempt
        for check in checks:
            previous = report.outcomes.get(check.id)
            if previous is None or previous.status == "fail":
                report.outcomes[check.id] = _run_one(check, probe, report.outcomes, attempt)
        if report.ok or attempt == attempts:
            break
        delay = next_delay(schedule, attempt)
        on_retry(attempt, attempts, report.passed, report.total, delay)
        sleep(delay)
    report.outcomes = {c.id: report.outcomes[c.id] for c in checks}
    report.duration_s = time.monotonic() - started
    return report


def _run_one(
    check: CheckSpec, probe: Callable[[CheckSpec], ProbeResult], done: Mapping[str, CheckOutcome], attempt: int
) -> CheckOutcome:
    blocker = next((r for r in check.requires if r in done and done[r].status == "fail"), None)
    if blocker is not None:
        return CheckOutcome(check.id, "fail", f"blocked by {blocker}", check.remediation, 0.0, None)
    started = time.monotonic()
    result = probe(check)
    elapsed = (time.monotonic() - started) * 1000
    if result.ok:
        return CheckOutcome(check.id, "pass", result.detail, None, elapsed, attempt)
    return CheckOutcome(check.id, "fail", result.detail, check.remediation, elapsed, None)
