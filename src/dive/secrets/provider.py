"""The secrets provider interface (spec/orchestration.md §9.1). Values never appear in `repr`, logs or errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from dive.secrets.errors import SecretPathInvalidError

__all__ = ["SecretMeta", "SecretsProvider", "check_path"]

_SEGMENT: Final = re.compile(r"[a-z0-9._-]+")


@dataclass(frozen=True)
class SecretMeta:
    path: str
    created_at: datetime
    rotated_at: datetime | None


class SecretsProvider(Protocol):
    def get(self, path: str) -> str | None: ...

    def put(self, path: str, value: str, *, overwrite: bool = False) -> None: ...

    def ensure(self, path: str, generator: Callable[[], str]) -> str: ...

    def list(self, prefix: str = "") -> list[SecretMeta]: ...

    def delete(self, path: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...


def check_path(path: str) -> str:
    """The path itself, or `SecretPathInvalidError`: `..`, empty or upper-case segments never reach the disk."""
    segments = path.split("/")
    if not path or not all(_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise SecretPathInvalidError(f"secret path {path!r} is not lower-case segments [a-z0-9._-]+ joined by '/'")
    return path
