"""Atomic writes with explicit permissions: a reader never sees half a key, and a key is never world-readable."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["ensure_private_dir", "write_atomically"]

PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
