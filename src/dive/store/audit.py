"""The decision-log repository shared by the api and the KAS (identity-api-ui §B.8; CONSISTENCY #33)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dive.store.errors import RecordInvalidError
from dive.store.models.audit import DecisionLogEntry

__all__ = [
    "MAX_PAGE_SIZE",
    "DecisionCursor",
    "DecisionLogRepository",
    "DecisionPage",
    "DecisionQuery",
    "DecisionRecord",
]

MAX_PAGE_SIZE: Final = 500


@dataclass(frozen=True, kw_only=True)
class DecisionRecord:
    """One OPA-style decision-log record; `to_document()` is the JSON the API lists and the log line prints."""

    decision_id: str
    timestamp: datetime
    path: str
    labels: Mapping[str, str]  # at least `instance` (upper case) and `service` (`api` | `kas`)
    input: Mapping[str, Any]
    result: Mapping[str, Any]
    policy_revision: str | None = None
    requested_by: str | None = None
    request_id: str | None = None
    metrics: Mapping[str, Any] | None = None
    latency_ms: float | None = None
    kas: Mapping[str, Any] | None = None

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "decision_id": self.decision_id,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "path": self.path,
            "labels": dict(self.labels),
            "bundles": {"dive": {"revision": self.policy_revision}},
            "requested_by": self.requested_by,
            "request_id": self.request_id,
            "input": dict(self.input),
            "result": dict(self.result),
            "metrics": dict(self.metrics or {}),
            "latency_ms": self.latency_ms,
        }
        if self.kas is not None:
            document["kas"] = dict(self.kas)
        return document


@dataclass(frozen=True)
class DecisionCursor:
    """Position after the last record of a page (newest first); the api encodes it opaquely."""

    timestamp: datetime
    seq: int


@dataclass(frozen=True, kw_only=True)
class DecisionQuery:
    subject: str | None = None  # input.subject.uniqueID
    resource_id: str | None = None
    instance: str | None = None  # the resource's instance, upper case
    allow: bool | None = None
    reason_code: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # inclusive
    limit: int = 50
    after: DecisionCursor | None = None


@dataclass(frozen=True)
class DecisionPage:
    items: list[DecisionRecord]
    next_cursor: DecisionCursor | None


class DecisionLogRepository:
    def append(self, session: Session, record: DecisionRecord) -> None:
        self.append_many(session, [record])

    def append_many(self, session: Session, records: Iterable[DecisionRecord]) -> None:
        session.add_all(_entry_from(record) for record in records)
        try:
            session.flush()
        except IntegrityError as exc:
            raise RecordInvalidError(f"decision record rejected (duplicate decision_id?): {exc.orig}") from exc

    def get(self, session: Session, decision_id: str) -> DecisionRecord | None:
        entry = session.scalar(select(DecisionLogEntry).where(DecisionLogEntry.decision_id == decision_id))
        return None if entry is None else _record_from(entry)

    def list(self, session: Session, query: DecisionQuery) -> DecisionPage:
        """Matching records, newest first, at most `query.limit` (1–500)."""
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise RecordInvalidError(f"limit={query.limit} is outside 1–{MAX_PAGE_SIZE}")
        statement = (
            select(DecisionLogEntry)
            .where(*_filters(query))
            .order_by(DecisionLogEntry.timestamp.desc(), DecisionLogEntry.id.desc())
            .limit(query.limit + 1)
        )
        entries = list(session.scalars(statement))
        page = entries[: query.limit]
        next_cursor = DecisionCursor(page[-1].timestamp, page[-1].id) if len(entries) > query.limit else None
        return DecisionPage([_record_from(entry) for entry in page], next_cursor)

    def purge_before(self, session: Session, cutoff: datetime) -> int:
        """Deletes records older than `cutoff` (retention, `DIVE_AUDIT_RETENTION_DAYS`); returns how many."""
        return session.execute(delete(DecisionLogEntry).where(DecisionLogEntry.timestamp < cutoff)).rowcount


def _filters(query: DecisionQuery) -> list[Any]:
    column = DecisionLogEntry
    conditions: list[Any] = []
    for value, field in (
        (query.subject, column.subject),
        (query.resource_id, column.resource_id),
        (query.instance, column.resource_instance),
        (query.allow, column.allow),
        (query.reason_code, column.reason_code),
    ):
        if value is not None:
            conditions.append(field == value)
    if query.since is not None:
        conditions.append(column.timestamp >= query.since)
    if query.until is not None:
        conditions.append(column.timestamp <= query.until)
    if query.after is not None:
        conditions.append(
            or_(
                column.timestamp < query.after.timestamp,
                (column.timestamp == query.after.timestamp) & (column.id < query.after.seq),
            )
        )
    return conditions


def _entry_from(record: DecisionRecord) -> DecisionLogEntry:
    subject, resource, action = (_object(record.input, key) for key in ("subject", "resource", "action"))
    allow = record.result.get("allow")
    return DecisionLogEntry(
        decision_id=record.decision_id,
        timestamp=record.timestamp,
        path=record.path,
        service=str(record.labels.get("service", "")),
        instance=str(record.labels.get("instance", "")),
        request_id=record.request_id,
        requested_by=record.requested_by,
        policy_revision=record.policy_revision,
        operation=_string(action.get("operation")),
        subject=_string(subject.get("uniqueID")),
        resource_id=_string(resource.get("resourceId")),
        resource_instance=_string(resource.get("instance")),
        allow=allow if isinstance(allow, bool) else None,
        reason_code=_string(record.result.get("reason_code")),
        latency_ms=record.latency_ms,
        labels=dict(record.labels),
        input=dict(record.input),
        result=dict(record.result),
        metrics=None if record.metrics is None else dict(record.metrics),
        kas=None if record.kas is None else dict(record.kas),
    )


def _record_from(entry: DecisionLogEntry) -> DecisionRecord:
    return DecisionRecord(
        decision_id=entry.decision_id,
        timestamp=entry.timestamp,
        path=entry.path,
        labels=entry.labels,
        input=entry.input,
        result=entry.result,
        policy_revision=entry.policy_revision,
        requested_by=entry.requested_by,
        request_id=entry.request_id,
        metrics=entry.metrics,
        latency_ms=entry.latency_ms,
        kas=entry.kas,
    )


def _object(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    return value if isinstance(value, Mapping) else {}


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
