"""RFC 3339 timestamps exactly as the policy accepts them (spec/abac.md §1.6).

Grammar `^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|z|[+-]\\d{2}:\\d{2})$` (ASCII digits, upper-case
`T`) plus calendar validity: months 01–12, real days, hours 00–23, minutes and seconds 00–59 (no leap second),
offsets up to 23:59. Years run from 0001, the first one Python represents.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

__all__ = ["parse_rfc3339", "parse_rfc3339_ns"]

_GRAMMAR: Final = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US: Final = 1000


def _parse_whole_seconds(value: object) -> tuple[datetime, int] | None:
    """The instant without its fraction, and the fraction in nanoseconds."""
    if not isinstance(value, str):
        return None
    match = _GRAMMAR.fullmatch(value)
    if match is None:
        return None
    fields = match.groupdict()
    offset = timedelta(0)
    if fields["sign"] is not None:
        off_hour, off_minute = int(fields["off_hour"]), int(fields["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return None
        offset = timedelta(hours=off_hour, minutes=off_minute) * (-1 if fields["sign"] == "-" else 1)
    try:
        instant = datetime(
            int(fields["year"]),
            int(fields["month"]),
            int(fields["day"]),
            int(fields["hour"]),
            int(fields["minute"]),
            int(fields["second"]),
            tzinfo=timezone(offset),
        )
    except ValueError:  # calendar validity: month 13, 30 February, hour 24, second 60, year 0000 …
        return None
    fraction_ns = int((fields["fraction"] or "").ljust(9, "0"))
    return instant, fraction_ns


def parse_rfc3339_ns(value: object) -> int | None:
    """Nanoseconds since the Unix epoch, or None when `value` is not an accepted timestamp."""
    parsed = _parse_whole_seconds(value)
    if parsed is None:
        return None
    instant, fraction_ns = parsed
    return (instant - _EPOCH) // timedelta(seconds=1) * 1_000_000_000 + fraction_ns


def parse_rfc3339(value: object) -> datetime | None:
    """An aware UTC datetime, or None when `value` is not an accepted timestamp.

    Digits below the microsecond are rounded *up*, so `created <= t` for any microsecond instant `t` agrees with the
    policy's nanosecond comparison (the embargo rule of §3.6 and the `creation_ts` pushdown column of §9.2).
    """
    nanoseconds = parse_rfc3339_ns(value)
    if nanoseconds is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=-(-nanoseconds // _NS_PER_US))
    except OverflowError:  # 9999-12-31T23:59:59.9999999Z and beyond, after rounding up
        return None
