"""Writes decision-log records off the request path (identity-api-ui §B.8): batches flushed every second or every
500 records; a bounded queue of 10,000 applies back-pressure instead of dropping records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Final

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.orm import Session, sessionmaker

from dive.store.audit import DecisionLogRepository, DecisionRecord

__all__ = ["DecisionLogWriter"]

FLUSH_INTERVAL_S: Final = 1.0
FLUSH_BATCH: Final = 500
QUEUE_BOUND: Final = 10_000

log = logging.getLogger(__name__)
decision_log = logging.getLogger("dive.decision_log")


class DecisionLogWriter:
    """Owned by a service's lifespan: `start()` once, `record()` per decision, `close()` flushes what is left."""

    def __init__(
        self, sessions: sessionmaker[Session], *, registry: CollectorRegistry, instance_code: str, service: str
    ) -> None:
        self._sessions = sessions
        self._repository = DecisionLogRepository()
        self._queue: asyncio.Queue[DecisionRecord] = asyncio.Queue(maxsize=QUEUE_BOUND)
        self._task: asyncio.Task[None] | None = None
        labels = {"instance_code": instance_code, "service": service}
        self._depth = Gauge(
            "dive_audit_queue_depth", "Decision records waiting to be written", list(labels), registry=registry
        ).labels(**labels)
        self._failures = Counter(
            "dive_audit_write_failures_total", "Failed decision-log batch writes", list(labels), registry=registry
        ).labels(**labels)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="decision-log-writer")

    async def record(self, record: DecisionRecord) -> None:
        """Queue one record; waits when the queue is full so that no record is lost."""
        await self._queue.put(record)
        self._depth.set(self._queue.qsize())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._flush(self._drain(QUEUE_BOUND))

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            await asyncio.sleep(FLUSH_INTERVAL_S if self._queue.qsize() < FLUSH_BATCH else 0)
            await self._flush([first, *self._drain(FLUSH_BATCH - 1)])

    def _drain(self, limit: int) -> list[DecisionRecord]:
        batch: list[DecisionRecord] = []
        while len(batch) < limit and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _flush(self, batch: Sequence[DecisionRecord]) -> None:
        self._depth.set(self._queue.qsize())
        if not batch:
            return
        try:
            await anyio.to_thread.run_sync(self._write, batch)
        except Exception:  # counted and logged; the records' JSON log lines were already written
            self._failures.inc()
            log.exception("decision-log batch write failed", extra={"records": len(batch)})

    def _write(self, batch: Sequence[DecisionRecord]) -> None:
        # The JSON log line is the same record (CONSISTENCY #33); written here, in the worker thread, off the loop.
        for record in batch:
            decision_log.info(json.dumps(record.to_document(), ensure_ascii=False, default=str))
        with self._sessions.begin() as session:
            self._repository.append_many(session, batch)
