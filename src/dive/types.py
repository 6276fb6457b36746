"""Type aliases shared by every component."""

from __future__ import annotations

from typing import Final, Literal, NewType

__all__ = ["LEVELS", "CountryCode", "InstanceCode", "Level"]

Level = Literal["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"]  # spec/abac.md §2.1

# The canonical ladder in rank order: LEVELS[rank] is the level of that rank.
LEVELS: Final[tuple[Level, ...]] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET")

CountryCode = NewType("CountryCode", str)  # ISO 3166-1 alpha-3 (or a registered test code), upper case
InstanceCode = NewType("InstanceCode", str)  # three ASCII letters, lower case as stored and used in names (`fra`)
