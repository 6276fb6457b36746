"""Moving JSON in and out of rego-cpp (regopy 1.5.2) without tripping its traps (spec/abac.md §1.6).

rego-cpp keeps strings in their JSON-escaped form and prints them back verbatim, so the input goes in as JSON text
(`set_input_term`, non-ASCII unescaped, because `\\uXXXX` is never decoded) and the output comes back as valid JSON.
Its ASCII `upper` turns an escape such as `\\n` into `\\N`; control characters have no case, so lower-casing those
escapes again gives exactly OPA's answer. A quote or backslash inside a string cannot be carried faithfully at all
(builtins print it raw, `\\x` aborts the parser), so it is replaced by its fullwidth form before evaluation; no
valid attribute contains either, so only the echo of such garbage differs from OPA.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Final

__all__ = ["MAX_INPUT_DEPTH", "encode_input", "parse_binding"]

# The policy reads no deeper than four levels; deeper values are only echoed, so they are cut to null.
MAX_INPUT_DEPTH: Final = 32
_INT_LIMIT: Final = 2**63
_UNSAFE: Final = str.maketrans({'"': "\uff02", "\\": "\uff3c"})
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{4}|.)", re.DOTALL)


def encode_input(value: object) -> str:
    return json.dumps(_plain(value, 0), ensure_ascii=False, allow_nan=False)


def _plain(value: object, depth: int) -> object:
    """The JSON value of `value`: over-deep containers, non-finite numbers and non-JSON objects become null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.translate(_UNSAFE)
    if isinstance(value, int):
        return value if -_INT_LIMIT < value < _INT_LIMIT else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= MAX_INPUT_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {str(key).translate(_UNSAFE): _plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, depth + 1) for item in value]
    return None


def parse_binding(output: str, name: str) -> tuple[bool, object]:
    """(defined, value) of the variable `name` in a regopy output string."""
    if output.strip() == "undefined":
        return False, None
    try:
        document = json.loads(output, strict=False)
    except ValueError:
        document = json.loads(_ESCAPE.sub(_lower_escape, output), strict=False)
    results = document if isinstance(document, list) else [document]
    if not results or not isinstance(results[0], dict):
        return False, None
    bindings = results[0].get("bindings", {})
    if not isinstance(bindings, dict) or name not in bindings:
        return False, None
    return True, bindings[name]


def _lower_escape(match: re.Match[str]) -> str:
    escaped = match.group(1)
    if escaped in "NRTBF" or escaped[0] == "U":
        return "\\" + escaped.lower()
    return match.group(0)
