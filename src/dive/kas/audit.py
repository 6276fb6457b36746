"""Audit of every KAO decision (spec/ztdf-kas.md §12.2; CONSISTENCY #33).

Records go through a bounded queue to the shared decision-log repository, and each is also one JSON log line. If
the store fails, records go to a local spool (JSON lines, 0600), replayed at the next start; if the spool cannot be
written either, `available` turns false and the KAS stops releasing keys (503 `audit_unavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dive.store import DecisionLogRepository, DecisionRecord, StoreError

__all__ = ["AuditSink"]

QUEUE_SIZE: Final = 20_000
BATCH_SIZE: Final = 500

log = logging.getLogger("dive.kas.audit")


class AuditSink:
    def __init__(
        self, sessions: sessionmaker[Session], spool: Path, *, on_spooled: Callable[[int], None] | None = None
    ) -> None:
        self._sessions, self._spool = sessions, spool
        self._repository = DecisionLogRepository()
        self._queue: asyncio.Queue[DecisionRecord] = asyncio.Queue(QUEUE_SIZE)
        self._on_spooled = on_spooled or (lambda count: None)
        self._task: asyncio.Task[None] | None = None
        self.available = True

    @property
    def spooled(self) -> int:
        try:
            with self._spool.open("rb") as handle:
                return sum(1 for _ in handle)
        except FileNotFoundError:
            return 0

    async def start(self) -> None:
        await anyio.to_thread.run_sync(self._replay_spool)
        self._task = asyncio.create_task(self._run(), name="kas-audit")

    async def stop(self) -> None:
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, records: Sequence[DecisionRecord]) -> None:
        for record in records:
            log.info("kas.rewrap", extra={"audit": record.to_document()})
            await self._queue.put(record)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_SIZE and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await anyio.to_thread.run_sync(self._write, batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, batch: list[DecisionRecord]) -> None:
        try:
            with self._sessions.begin() as session:
                self._repository.append_many(session, batch)
        except (StoreError, SQLAlchemyError) as exc:
            log.warning("audit store unavailable; spooling", extra={"error": type(exc).__name__, "count": len(batch)})
            self._append_spool(batch)

    def _append_spool(self, batch: list[DecisionRecord]) -> None:
        try:
            self._spool.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._spool, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r.to_document(), separators=(",", ":")) + "\n" for r in batch)
        except OSError as exc:
            self.available = False
            log.error("audit spool unwritable; key release stopped", extra={"error": exc.strerror})
            return
        self._on_spooled(len(batch))

    def _replay_spool(self) -> None:
        try:
            lines = self._spool.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        records = [_record(json.loads(line)) for line in lines if line.strip()]
        try:
            with self._sessions.begin() as session:
                self._repository.append_many(session, records)
        except (StoreError, SQLAlchemyError):
            return  # still unavailable: keep the spool for the next start
        self._spool.unlink()


def _record(document: dict[str, object]) -> DecisionRecord:
    timestamp = datetime.fromisoformat(str(document["timestamp"]).replace("Z", "+00:00"))
    bundles = document.get("bundles") or {}
    revision = bundles.get("dive", {}).get("revision") if isinstance(bundles, dict) else None
    return DecisionRecord(
        decision_id=str(document["decision_id"]),
        timestamp=timestamp,
        path=str(document["path"]),
        labels=document["labels"],  # type: ignore[arg-type]
        input=document["input"],  # type: ignore[arg-type]
        result=document["result"],  # type: ignore[arg-type]
        policy_revision=revision,
        requested_by=document.get("requested_by"),  # type: ignore[arg-type]
        request_id=document.get("request_id"),  # type: ignore[arg-type]
        metrics=document.get("metrics"),  # type: ignore[arg-type]
        latency_ms=document.get("latency_ms"),  # type: ignore[arg-type]
        kas=document.get("kas"),  # type: ignore[arg-type]
    )
