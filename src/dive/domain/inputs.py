"""Reading loosely typed policy input the way spec/abac.md §3 defines it, so Python and Rego agree.

The Rego engines trim and change case in ASCII only; these helpers do the same, never Unicode-aware `str` methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

__all__ = ["ascii_lower", "ascii_upper", "is_present", "render_list", "render_value", "string_set", "trim"]

_TRIMMED: Final = " \t\r\n"
_TO_UPPER: Final = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TO_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def trim(text: str) -> str:
    """Strip space, tab, CR and LF only (not the no-break space)."""
    return text.strip(_TRIMMED)


def ascii_upper(text: str) -> str:
    return text.translate(_TO_UPPER)


def ascii_lower(text: str) -> str:
    return text.translate(_TO_LOWER)


def is_present(value: object) -> bool:
    """§3: a string that is not empty after trimming."""
    return isinstance(value, str) and trim(value) != ""


def string_set(value: object) -> frozenset[str]:
    """The strings of `value` when it is a list (`SC`, `RC` of §3), otherwise the empty set."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


def render_value(value: object) -> str:
    """A placeholder value: a string as given, anything else as compact JSON (Rego's `json.marshal`)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def render_list(values: Iterable[object]) -> str:
    """`{list:X}`: distinct rendered values, sorted by code point, joined with ", "; `none` when empty."""
    rendered = sorted({render_value(value) for value in values})
    return ", ".join(rendered) if rendered else "none"
