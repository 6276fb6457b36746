from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dive.idp.bruteforce import LockoutPolicy, LockoutState, is_locked, record_failure

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = LockoutPolicy()


def _fail(state: LockoutState, at: datetime) -> LockoutState:
    return record_failure(state, POLICY, now=at, ip="10.0.0.1")


def test_five_failures_lock_for_sixty_seconds():
    state = LockoutState()
    for i in range(4):
        state = _fail(state, T0 + timedelta(seconds=i))
        assert not is_locked(state, T0 + timedelta(seconds=i))
    state = _fail(state, T0 + timedelta(seconds=4))
    assert is_locked(state, T0 + timedelta(seconds=63))
    assert not is_locked(state, T0 + timedelta(seconds=64))


def test_each_failure_after_a_lock_doubles_the_wait_up_to_900_seconds():
    state = LockoutState()
    at = T0
    for _ in range(5):
        state = _fail(state, at)
    waits = []
    for _ in range(6):
        at = state.locked_until
        state = _fail(state, at)
        waits.append((state.locked_until - at).total_seconds())
    assert waits == [120, 240, 480, 900, 900, 900]


def test_twelve_hours_without_failure_resets_the_count():
    state = LockoutState()
    for i in range(4):
        state = _fail(state, T0 + timedelta(seconds=i))
    state = _fail(state, T0 + timedelta(hours=12, seconds=10))
    assert state.failures == 1 and not is_locked(state, T0 + timedelta(hours=12, seconds=10))
