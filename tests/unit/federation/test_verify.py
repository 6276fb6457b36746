"""The pure decisions of `federation verify` (orchestration §8.5): schedule, delays, re-runs, prerequisites, skips."""

from __future__ import annotations

import pytest

import dive.federation
from dive.federation.verify import (
    CheckSpec,
    ProbeResult,
    next_delay,
    parse_attempts,
    parse_schedule,
    run_verification,
    verify_checks,
)


def test_the_package_exports_exactly_its_public_names():
    assert sorted(dive.federation.__all__) == dive.federation.__all__
    assert all(hasattr(dive.federation, name) for name in dive.federation.__all__)


def test_there_are_sixteen_checks_with_the_spec_ids():
    ids = [check.id for check in verify_checks("usa", "fra")]
    assert len(ids) == 16 and len(set(ids)) == 16
    assert {"registry", "fra@usa.sso", "usa@fra.token", "spoke.kas", "hub.oidc"} <= set(ids)


@pytest.mark.parametrize(("attempt", "delay"), [(1, 5.0), (2, 10.0), (5, 60.0), (9, 60.0)])
def test_the_default_schedule_caps_at_its_last_value(attempt: int, delay: float):
    assert next_delay(parse_schedule(None), attempt) == delay


def test_a_custom_schedule_is_parsed_and_bad_ones_are_refused():
    assert parse_schedule("0.1,0.2") == (0.1, 0.2)
    with pytest.raises(ValueError, match="not a comma-separated"):
        parse_schedule("1,soon")
    with pytest.raises(ValueError, match="negative"):
        parse_schedule("1,-2")
    assert parse_attempts(None) == 5 and parse_attempts("3") == 3
    with pytest.raises(ValueError, match="at least 1"):
        parse_attempts(0)


def _checks() -> list[CheckSpec]:
    return [CheckSpec("a", (), "fix a"), CheckSpec("b", ("a",), "fix b"), CheckSpec("c", (), "fix c")]


def test_a_later_attempt_reruns_only_the_failed_checks_and_reports_the_retry_delays():
    calls: list[str] = []
    retries: list[tuple[int, int, float]] = []
    slept: list[float] = []

    def probe(check: CheckSpec) -> ProbeResult:
        calls.append(check.id)
        return ProbeResult(check.id != "a" or calls.count("a") >= 3, check.id)

    report = run_verification(_checks(), probe, hub="usa", spoke="fra", attempts=5, schedule=(0.5, 1.0), skips={},
                              on_retry=lambda k, a, p, n, d: retries.append((k, p, d)), sleep=slept.append)  # fmt: skip
    assert report.ok and report.attempts == 3
    assert calls == ["a", "c", "a", "a", "b"]  # b was blocked until a passed; c passed once and never re-ran
    assert retries == [(1, 1, 0.5), (2, 1, 1.0)] and slept == [0.5, 1.0]
    assert report.outcomes["a"].attempt == 3 and report.outcomes["c"].attempt == 1


def test_a_blocked_check_counts_as_failed_and_skips_are_excluded_from_the_total():
    report = run_verification(_checks(), lambda c: ProbeResult(c.id != "a", "down"), hub="usa", spoke="fra",
                              attempts=2, schedule=(0.0,), skips={"c": "skip: no test users"},
                              on_retry=lambda *_: None, sleep=lambda _: None)  # fmt: skip
    document = report.to_json()
    assert document["result"] == "fail" and document["passed"] == 0 and document["total"] == 2
    assert document["skipped"] == ["c"]
    assert report.outcomes["b"].detail == "blocked by a" and report.outcomes["b"].remediation == "fix b"
