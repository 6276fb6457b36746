"""The decision log: one table for the api and the KAS (spec/identity-api-ui.md §B.8; CONSISTENCY #33).

`input`, `result`, `labels`, `metrics` and `kas` hold the OPA decision-log record's objects verbatim; the scalar
columns repeat the fields that `GET /api/audit/decisions` filters on, so filtering never parses JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import BIG_ID, JSON_DOCUMENT, Base, UtcDateTime

__all__ = ["DecisionLogEntry"]


class DecisionLogEntry(Base):
    __tablename__ = "decision_log"
    __table_args__ = (
        Index("ix_decision_log_timestamp", "timestamp", "id"),
        Index("ix_decision_log_subject", "subject", "timestamp"),
        Index("ix_decision_log_resource_id", "resource_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(64), unique=True)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    path: Mapped[str] = mapped_column(String(64))  # `dive/authz/decision`, `dive/authz/list`
    service: Mapped[str] = mapped_column(String(16))  # labels.service: `api` | `kas`
    instance: Mapped[str] = mapped_column(String(8))  # labels.instance, upper case (CONSISTENCY #10)
    request_id: Mapped[str | None] = mapped_column(String(128))
    requested_by: Mapped[str | None] = mapped_column(String(64))  # client IP
    policy_revision: Mapped[str | None] = mapped_column(String(128))  # bundles.dive.revision
    operation: Mapped[str | None] = mapped_column(String(16))  # input.action.operation
    subject: Mapped[str | None] = mapped_column(String(255))  # input.subject.uniqueID
    resource_id: Mapped[str | None] = mapped_column(String(128))  # input.resource.resourceId
    resource_instance: Mapped[str | None] = mapped_column(String(8))  # input.resource.instance
    allow: Mapped[bool | None] = mapped_column(Boolean)  # result.allow; NULL for list aggregates
    reason_code: Mapped[str | None] = mapped_column(String(64))  # result.reason_code: failed[0] or `ok`
    latency_ms: Mapped[float | None] = mapped_column(Float)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    input: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    result: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    kas: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)  # CONSISTENCY #33 KAS extras
