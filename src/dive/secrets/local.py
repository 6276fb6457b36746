"""The default provider: one file per secret under `DIVE_HOME/secrets/<path>` (spec/orchestration.md §9.1).

Files are 0600 in 0700 directories, written atomically (temp file, fsync, rename); a file or directory readable by
group or others is refused rather than used. `secrets/index.json` keeps the timestamps, updated under a flock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from dive.secrets.errors import SecretExistsError, SecretInsecureError, SecretStoreError
from dive.secrets.provider import SecretMeta, check_path

__all__ = ["LocalKeystore"]

_INDEX: Final = "index.json"
_LOCK: Final = ".index.lock"
_GROUP_OTHER: Final = stat.S_IRWXG | stat.S_IRWXO


class LocalKeystore:
    def __init__(self, home: Path) -> None:
        self.root = Path(home) / "secrets"

    def get(self, path: str) -> str | None:
        file = self._file(path)
        try:
            self._check_private(file)
            return file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SecretStoreError(f"secret {path} cannot be read: {exc.strerror}") from exc

    def put(self, path: str, value: str, *, overwrite: bool = False) -> None:
        file = self._file(path)
        with self._locked():
            if file.exists() and not overwrite:
                raise SecretExistsError(f"secret {path} exists; rotate it instead of overwriting")
            rotated = file.exists()
            self._write(file, value)
            self._touch_index(path, rotated=rotated)

    def ensure(self, path: str, generator: Callable[[], str]) -> str:
        """The stored value, or a new one from `generator`, stored first; never overwrites."""
        existing = self.get(path)
        if existing is not None:
            return existing
        # Another process may create it between our read and our write: theirs wins.
        with contextlib.suppress(SecretExistsError):
            self.put(path, generator())
        value = self.get(path)
        if value is None:
            raise SecretStoreError(f"secret {path} vanished right after it was written")
        return value

    def list(self, prefix: str = "") -> list[SecretMeta]:
        index = self._read_index()
        return [
            SecretMeta(path, _parse_time(entry.get("created_at")) or _epoch(), _parse_time(entry.get("rotated_at")))
            for path, entry in sorted(index.items())
            if path.startswith(prefix) and (self.root / path).is_file()
        ]

    def delete(self, path: str) -> None:
        file = self._file(path)
        with self._locked():
            file.unlink(missing_ok=True)
            index = self._read_index()
            if index.pop(path, None) is not None:
                self._write_index(index)

    def delete_prefix(self, prefix: str) -> int:
        paths = [meta.path for meta in self.list(prefix)]
        for path in paths:
            self.delete(path)
        return len(paths)

    def _file(self, path: str) -> Path:
        return self.root / check_path(path)

    def _check_private(self, file: Path) -> None:
        mode = file.stat().st_mode
        if mode & _GROUP_OTHER:
            raise SecretInsecureError(
                f"secret file {file} has mode {stat.S_IMODE(mode):o}; run `chmod 600 {file}` (0600 is required)"
            )
        for directory in (file.parent, *file.parent.parents):
            if directory == self.root.parent:
                break
            if directory.stat().st_mode & _GROUP_OTHER:
                raise SecretInsecureError(f"secret directory {directory} is group/other accessible; chmod 700 it")

    def _write(self, file: Path, value: str) -> None:
        try:
            self._make_dirs(file.parent)
            temp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, file)
        except OSError as exc:
            raise SecretStoreError(f"secret file {file} cannot be written: {exc.strerror}") from exc

    def _make_dirs(self, directory: Path) -> None:
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        for d in reversed(missing):
            d.mkdir(mode=0o700)
            os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._make_dirs(self.root)
            fd = os.open(self.root / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SecretStoreError(f"the keystore {self.root} cannot be locked: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read_index(self) -> dict[str, dict[str, str]]:
        try:
            index = json.loads((self.root / _INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecretStoreError(f"the keystore index {self.root / _INDEX} is unreadable: {exc}") from exc
        return index if isinstance(index, dict) else {}

    def _write_index(self, index: dict[str, dict[str, str]]) -> None:
        self._write(self.root / _INDEX, json.dumps(index, indent=1, sort_keys=True))

    def _touch_index(self, path: str, *, rotated: bool) -> None:
        index = self._read_index()
        now = datetime.now(UTC).isoformat()
        entry = index.setdefault(path, {"created_at": now})
        if rotated:
            entry["rotated_at"] = now
        self._write_index(index)


def _parse_time(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)
