"""Circuit breakers per instance and phase, `<c>/<PHASE>` (spec/orchestration.md §7.3).

Three consecutive failed runs of a phase open it; while open and younger than the cool-down, a run that would
execute the phase is refused (exit 2). After the cool-down it is half open: one run may try; success closes it,
failure opens it again. Cancelled and interrupted runs do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy.orm import Session

from dive.orchestration.error_records import HIGH, record_error
from dive.orchestration.errors import BreakerOpenError
from dive.store.models.orchestration import CircuitBreaker

__all__ = ["FAILURES_TO_OPEN", "breaker_verdict", "refuse_open_breakers", "update_breaker"]

FAILURES_TO_OPEN: Final = 3
Verdict = Literal["closed", "open", "half_open"]


def breaker_verdict(breaker: CircuitBreaker | None, *, now: datetime, cooldown_s: float) -> Verdict:
    if breaker is None or breaker.state == "CLOSED":
        return "closed"
    if breaker.opened_at is not None and now - breaker.opened_at < timedelta(seconds=cooldown_s):
        return "open"
    return "half_open"


def refuse_open_breakers(
    session: Session, code: str, phases: Iterable[str], *, now: datetime, cooldown_s: float
) -> None:
    """Raise `BreakerOpenError` for the first phase to run whose breaker is open (§4.1 step 5)."""
    for phase in phases:
        breaker = session.get(CircuitBreaker, _name(code, phase))
        if breaker is None or breaker_verdict(breaker, now=now, cooldown_s=cooldown_s) != "open":
            continue
        assert breaker.opened_at is not None
        allowed_at = breaker.opened_at + timedelta(seconds=cooldown_s)
        raise BreakerOpenError(
            f"Circuit open for {code.upper()}/{phase}: failed {breaker.consecutive_failures} times in a row "
            f"(last: {breaker.last_error_code}). Next attempt allowed at {allowed_at:%H:%M:%S} UTC "
            f"(in {(allowed_at - now).total_seconds():.0f} s); override with --force, "
            f"or: dive orch-db reset-breaker {code.upper()}",
            {"breaker": breaker.name, "allowed_at": allowed_at.isoformat(), "failures": breaker.consecutive_failures},
        )


def update_breaker(
    session: Session, code: str, phase: str, *, failed: bool, error_code: str | None, now: datetime, run_id: str
) -> None:
    """Count one finished phase of a run (not cancelled, not interrupted); the caller commits."""
    name = _name(code, phase)
    breaker = session.get(CircuitBreaker, name)
    if breaker is None:
        breaker = CircuitBreaker(name=name, instance_code=code, phase=phase, state="CLOSED", consecutive_failures=0)
        session.add(breaker)
    breaker.updated_at = now
    if not failed:
        breaker.state, breaker.consecutive_failures, breaker.last_success_at = "CLOSED", 0, now
        breaker.opened_at = None
        return
    breaker.consecutive_failures += 1
    breaker.last_failure_at, breaker.last_error_code = now, error_code
    if breaker.state != "CLOSED" or breaker.consecutive_failures >= FAILURES_TO_OPEN:
        breaker.state, breaker.opened_at = "OPEN", now
        record_error(
            session,
            "BREAKER_OPENED",
            HIGH,
            f"circuit {name} opened after {breaker.consecutive_failures} consecutive failures (last: {error_code})",
            instance_code=code,
            run_id=run_id,
            phase=phase,
            remediation=f"fix the cause, wait for the cool-down, or: dive orch-db reset-breaker {code.upper()}",
        )


def _name(code: str, phase: str) -> str:
    return f"{code}/{phase}"
