"""Brute-force protection per user (§A.4): after `failureFactor` consecutive failures the account is locked for
`waitIncrementSeconds`; every failure after a lock expired relocks with the wait doubled, capped at
`maxFailureWaitSeconds`. Success, or `maxDeltaTimeSeconds` without a failure, resets. Pure decisions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

__all__ = ["LockoutPolicy", "LockoutState", "is_locked", "record_failure"]


@dataclass(frozen=True, kw_only=True)
class LockoutPolicy:
    failure_factor: int = 5
    wait_increment_s: int = 60
    max_wait_s: int = 900
    reset_after_s: int = 43200


@dataclass(frozen=True, kw_only=True)
class LockoutState:
    failures: int = 0
    locks: int = 0
    locked_until: datetime | None = None
    last_failure: datetime | None = None
    last_ip: str | None = None


def is_locked(state: LockoutState, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def record_failure(state: LockoutState, policy: LockoutPolicy, *, now: datetime, ip: str | None) -> LockoutState:
    if state.last_failure is not None and now - state.last_failure >= timedelta(seconds=policy.reset_after_s):
        state = LockoutState()
    failures = state.failures + 1
    updated = replace(state, failures=failures, last_failure=now, last_ip=ip)
    if failures < policy.failure_factor:
        return updated
    wait = min(policy.wait_increment_s * 2**state.locks, policy.max_wait_s)
    return replace(updated, locks=state.locks + 1, locked_until=now + timedelta(seconds=wait))
