"""Per-IP throttle of §A.4: more than 30 failed logins a minute across users → blocked for 60 s."""

from __future__ import annotations

from dive.idp.throttle import IpThrottle


def test_thirty_one_failures_in_a_minute_block_the_address_for_sixty_seconds():
    throttle = IpThrottle()
    for i in range(30):
        throttle.record_failure("10.0.0.9", 100.0 + i)
    assert not throttle.is_blocked("10.0.0.9", 130.0)
    throttle.record_failure("10.0.0.9", 130.5)
    assert throttle.is_blocked("10.0.0.9", 131.0) and not throttle.is_blocked("10.0.0.8", 131.0)
    assert not throttle.is_blocked("10.0.0.9", 191.0)


def test_failures_spread_over_more_than_a_minute_do_not_block():
    throttle = IpThrottle()
    for i in range(60):
        throttle.record_failure("10.0.0.9", 100.0 + 2.5 * i)
    assert not throttle.is_blocked("10.0.0.9", 250.0)


def test_password_grant_from_a_blocked_address_answers_429(idp):
    for _ in range(31):
        idp.password_grant("nobody", password="Wrong-password-1!")
    response = idp.password_grant("testuser-usa-1")
    assert response.status_code == 429
