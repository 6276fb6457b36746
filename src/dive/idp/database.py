"""Transactions over the instance database: readers, and writers that start with `BEGIN IMMEDIATE` on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dive.store.engine import session_factory, writer_session_factory

__all__ = ["IdpDatabase"]


class IdpDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._readers = session_factory(engine)
        self._writers = writer_session_factory(engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._readers.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._writers.begin() as session:
            yield session
