"""`GET /api/audit/decisions[/{decisionId}]` (identity-api-ui §B.8): admin or admin key; newest first."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive.api.errors import InvalidRequestError, NotFoundError
from dive.api.routes.common import runtime
from dive.store import DecisionCursor, DecisionLogRepository, DecisionQuery

__all__ = ["router"]

router = APIRouter()


@router.get("/api/audit/decisions", summary="Decision records, newest first")
async def list_decisions(
    request: Request,
    subject: str | None = None,
    resourceId: str | None = None,
    instance: str | None = None,
    decision: Annotated[str | None, Query(pattern="^(allow|deny)$")] = None,
    reasonCode: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> JSONResponse:
    api = runtime(request)
    await api.auth.require_admin(request)
    query = DecisionQuery(
        subject=subject,
        resource_id=resourceId,
        instance=instance.upper() if instance else None,
        allow=None if decision is None else decision == "allow",
        reason_code=reasonCode,
        since=_time(from_, "from"),
        until=_time(to, "to"),
        limit=limit,
        after=_cursor(cursor) if cursor else None,
    )

    def read() -> tuple[list[dict[str, object]], str | None]:
        with api.sessions() as session:
            page = DecisionLogRepository().list(session, query)
        after = page.next_cursor
        token = None if after is None else _encode(after)
        return [record.to_document() for record in page.items], token

    items, next_cursor = await anyio.to_thread.run_sync(read)
    return JSONResponse({"items": items, "nextCursor": next_cursor})


@router.get("/api/audit/decisions/{decision_id}", summary="One decision record")
async def get_decision_record(request: Request, decision_id: str) -> JSONResponse:
    api = runtime(request)
    await api.auth.require_admin(request)

    def read() -> dict[str, object] | None:
        with api.sessions() as session:
            record = DecisionLogRepository().get(session, decision_id[:64])
        return None if record is None else record.to_document()

    document = await anyio.to_thread.run_sync(read)
    if document is None:
        raise NotFoundError(f"There is no decision {decision_id[:64]!r}.")
    return JSONResponse(document)


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequestError(f"{name}={raw!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise InvalidRequestError(f"{name}={raw!r} has no time zone; add Z or an offset")
    return parsed


def _encode(cursor: DecisionCursor) -> str:
    document = {"t": cursor.timestamp.isoformat(), "s": cursor.seq}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def _cursor(raw: str) -> DecisionCursor:
    try:
        document = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return DecisionCursor(datetime.fromisoformat(document["t"]), int(document["s"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError("the cursor is malformed; start again without one") from exc
