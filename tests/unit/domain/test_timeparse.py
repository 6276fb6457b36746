"""spec/abac.md §1.6: the accepted RFC 3339 grammar plus calendar validity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dive.domain.timeparse import parse_rfc3339, parse_rfc3339_ns


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-02T03:04:05Z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05+00:00", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05+02:30", datetime(2025, 1, 2, 0, 34, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05-01:00", datetime(2025, 1, 2, 4, 4, 5, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2025-01-02T03:04:05.5Z", datetime(2025, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        ("2025-01-02T03:04:05.123456789Z", datetime(2025, 1, 2, 3, 4, 5, 123457, tzinfo=UTC)),
        ("2025-01-02T03:04:05.000000001Z", datetime(2025, 1, 2, 3, 4, 5, 1, tzinfo=UTC)),
    ],
)
def test_accepted_timestamps_parse_to_aware_utc(text, expected):
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-02T03:04:05",  # no offset
        "2025-01-02t03:04:05Z",  # lower-case t
        "2025-01-02 03:04:05Z",
        "2025-01-02T03:04Z",
        "2025-01-02T03:04:05.Z",
        "2025-01-02T03:04:05.1234567890Z",  # ten fraction digits
        "2025-01-02T03:04:05+0000",
        "2025-01-02T03:04:05+00",
        "2025-01-02T03:04:05UTC",
        "2025-1-02T03:04:05Z",
        "+2025-01-02T03:04:05Z",
        "2025-01-02T03:04:05Z\n",  # `$` must not match before a final newline
        " 2025-01-02T03:04:05Z",
        "２０２５-01-02T03:04:05Z",  # non-ASCII digits
        "2025-13-01T00:00:00Z",
        "2025-00-01T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2025-04-31T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T23:60:00Z",
        "2025-01-01T23:59:60Z",  # no leap second
        "2025-01-01T00:00:00+24:00",
        "2025-01-01T00:00:00+01:60",
        "0000-01-01T00:00:00Z",
        "",
    ],
)
def test_rejected_timestamps_give_none(text):
    assert parse_rfc3339(text) is None
    assert parse_rfc3339_ns(text) is None


@pytest.mark.parametrize("value", [None, 1735787045, ["2025-01-02T03:04:05Z"], b"2025-01-02T03:04:05Z"])
def test_non_strings_give_none(value):
    assert parse_rfc3339(value) is None


def test_nanoseconds_are_exact_and_datetime_rounds_up_to_the_microsecond():
    assert parse_rfc3339_ns("1970-01-01T00:00:00.000000001Z") == 1
    assert parse_rfc3339_ns("1969-12-31T23:59:59.5Z") == -500_000_000
    assert parse_rfc3339("1970-01-01T00:00:00.000000001Z") == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert parse_rfc3339("9999-12-31T23:59:59.9999999Z") is None  # rounds past the largest datetime


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.sampled_from(["+00:00", "Z", "z"]),
)
def test_isoformat_of_any_utc_instant_round_trips(instant, suffix):
    assert parse_rfc3339(instant.isoformat().replace("+00:00", suffix)) == instant
    shifted = (instant + timedelta(hours=-5, minutes=-30)).replace(tzinfo=None).isoformat(timespec="seconds")
    assert parse_rfc3339(shifted + "-05:30") == instant.replace(microsecond=0)
