"""Shape limits on policy inputs arriving over HTTP. Real inputs are small (249 country codes at most, a few dozen
COIs); larger lists are garbage that would cost seconds of evaluation each, so they are refused up front (400)."""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_ARRAY_ITEMS", "MAX_STRING_CHARS", "input_problem"]

MAX_ARRAY_ITEMS: Final = 512
MAX_STRING_CHARS: Final = 8192
MAX_VALUES: Final = 20_000


def input_problem(value: object) -> str | None:
    """A sentence naming the first limit `value` breaks, or None when it is within every limit."""
    budget = MAX_VALUES
    stack: list[tuple[object, str]] = [(value, "input")]
    while stack:
        item, where = stack.pop()
        budget -= 1
        if budget < 0:
            return f"the input holds more than {MAX_VALUES} values"
        if isinstance(item, str) and len(item) > MAX_STRING_CHARS:
            return f"{where} is a string of {len(item)} characters; the limit is {MAX_STRING_CHARS}"
        if isinstance(item, list):
            if len(item) > MAX_ARRAY_ITEMS:
                return f"{where} is a list of {len(item)} items; the limit is {MAX_ARRAY_ITEMS}"
            stack.extend((element, f"{where}[{index}]") for index, element in enumerate(item))
        elif isinstance(item, dict):
            stack.extend((element, f"{where}.{key}") for key, element in item.items())
    return None
