"""Resources (identity-api-ui §B.5): list/search, detail, decision, content, ZTDF and upload; federated search (§B.6).

Literal paths (`/search`, `/federated-search`) are declared before `/{resource_id}` so it never captures them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Final

import anyio
from fastapi import APIRouter, Body, Query
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dive.api.auth import Principal
from dive.api.errors import ForbiddenError, IntegrityCheckError, NotFoundError, UnavailableError
from dive.api.pep import DecisionOutcome
from dive.api.routes.common import folded_params, request_id, requested_by, runtime
from dive.api.routes.upload import upload_document
from dive.api.runtime import ApiRuntime
from dive.api.search_query import parse_search
from dive.api.views import denied_label, detail_json, label_json
from dive.store import ResourceRepository
from dive.store.models.resources import Resource

__all__ = ["router"]

router = APIRouter()
RESOURCE_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ACTIVE_TYPES: Final = ("text/html", "image/svg+xml", "application/xhtml+xml", "application/xml", "text/xml")
StrList = Annotated[list[str] | None, Query()]


@router.get("/api/resources", summary="List and search the documents the caller may read")
async def list_resources(
    request: Request,
    q: str | None = None,
    classification: StrList = None,
    releasableTo: StrList = None,
    coi: StrList = None,
    instance: StrList = None,
    fileType: StrList = None,
    encrypted: bool | None = None,
    dateFrom: str | None = None,
    dateTo: str | None = None,
    sort: str | None = None,
    page: Annotated[int | None, Query(ge=1)] = None,
    pageSize: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: str | None = None,
    facets: bool | None = None,
) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    params = folded_params(request)
    query = parse_search(params, facets_default=False)
    cursor_value = (params.get("cursor") or [None])[0]
    body = await api.searcher.search(
        principal, query, cursor=cursor_value, request_id=request_id(request), requested_by=requested_by(request)
    )
    return JSONResponse(body)


@router.post("/api/resources/search", summary="Search with a JSON body (same semantics as the list)")
async def search_resources(request: Request, body: Annotated[dict[str, object], Body()]) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    params = _body_params(body)
    query = parse_search(params, facets_default=True)
    body_cursor = body.get("cursor")
    cursor_value = body_cursor if isinstance(body_cursor, str) else None
    answer = await api.searcher.search(
        principal, query, cursor=cursor_value, request_id=request_id(request), requested_by=requested_by(request)
    )
    return JSONResponse(answer)


@router.get("/api/resources/federated-search", summary="Search this instance and every approved partner")
async def federated_search_get(request: Request, instances: StrList = None) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    params = folded_params(request)
    query = parse_search(params, facets_default=False)
    body = await api.federated.search(principal, query, params.get("instances", []), request_id=request_id(request))
    await _record_federated(api, request, principal, query.described(), body)
    return JSONResponse(body)


@router.post("/api/resources/federated-search", summary="Federated search with a JSON body")
async def federated_search_post(request: Request, body: Annotated[dict[str, object], Body()]) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    params = _body_params(body)
    query = parse_search(params, facets_default=True)
    answer = await api.federated.search(principal, query, params.get("instances", []), request_id=request_id(request))
    await _record_federated(api, request, principal, query.described(), answer)
    return JSONResponse(answer)


@router.post("/api/resources", status_code=201, summary="Upload a document (multipart form)")
async def upload(request: Request) -> JSONResponse:
    return await upload_document(request)


@router.get("/api/resources/{resource_id}", summary="One document with its decision")
async def get_resource(request: Request, resource_id: str) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    resource = await _load(api, resource_id)
    outcome = await _decide_read(api, request, principal, resource, operation="read")
    _enforce(api, resource, outcome)
    return JSONResponse(detail_json(resource, outcome.as_json()))


@router.get("/api/resources/{resource_id}/decision", summary="Why the caller may or may not read a document")
async def get_decision(request: Request, resource_id: str) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    resource = await _load(api, resource_id)
    outcome = await _decide_read(api, request, principal, resource, operation="explain")
    me = {"uniqueID": principal.claims.get("uniqueID"), "iss": principal.claims.get("iss")}
    return JSONResponse(
        {
            "resourceId": resource.resource_id,
            "instance": resource.instance_code.upper(),
            "subject": me,
            "label": label_json(resource),
            "decision": outcome.as_json(),
        }
    )


@router.get("/api/resources/{resource_id}/content", summary="The decrypted document (key released by its KAS)")
async def get_content(request: Request, resource_id: str) -> Response:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    resource = await _load(api, resource_id, with_payload=True)
    outcome = await _decide_read(api, request, principal, resource, operation="read")
    _enforce(api, resource, outcome)
    archive = resource.payload.archive if resource.payload is not None else b""
    try:
        plaintext = await api.gateway.open(archive, principal.bearer, api.kas.snapshot.approved_urls)
    except IntegrityCheckError:
        await anyio.to_thread.run_sync(_mark_integrity_failed, api, resource.resource_id)
        raise
    return Response(
        plaintext,
        media_type=resource.mime_type or "application/octet-stream",
        headers=_content_headers(resource, outcome),
    )


@router.get("/api/resources/{resource_id}/ztdf", summary="The ZTDF archive")
async def get_ztdf(request: Request, resource_id: str) -> Response:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    resource = await _load(api, resource_id, with_payload=True)
    outcome = await _decide_read(api, request, principal, resource, operation="read")
    _enforce(api, resource, outcome)
    archive = resource.payload.archive if resource.payload is not None else b""
    headers = {
        "Content-Disposition": f'attachment; filename="{resource.resource_id}.ztdf"',
        "Cache-Control": "no-store",
        "X-DIVE-Decision-Id": outcome.decision_id,
    }
    return Response(archive, media_type="application/zip", headers=headers)


def _body_params(body: Mapping[str, object]) -> dict[str, list[str]]:
    """A search body (`q`, `sort`, `page`, `pageSize`, `facets`, `filters{…}`, `instances`) as query parameters."""
    params: dict[str, list[str]] = {}
    filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
    for source in (body, filters):
        for name, value in source.items():  # type: ignore[union-attr]
            if name in ("filters", "cursor"):
                continue
            values = value if isinstance(value, list) else [value]
            params[name] = [json.dumps(v) if isinstance(v, bool) else str(v) for v in values if v is not None]
    return params


async def _load(api: ApiRuntime, resource_id: str, *, with_payload: bool = False) -> Resource:
    if not RESOURCE_ID.fullmatch(resource_id):
        raise NotFoundError(f"There is no document {resource_id[:128]!r}.")

    def read() -> Resource | None:
        with api.sessions() as session:
            resource = ResourceRepository().get(session, resource_id)
            if resource is not None and with_payload:
                _ = resource.payload  # load the archive while the session is open
            session.expunge_all()
            return resource

    try:
        resource = await anyio.to_thread.run_sync(read)
    except SQLAlchemyError as exc:
        raise UnavailableError("service_unavailable", "The resource store is unreachable; try again.") from exc
    if resource is None:
        raise NotFoundError(f"There is no document {resource_id!r}.")
    return resource


async def _decide_read(
    api: ApiRuntime, request: Request, principal: Principal, resource: Resource, *, operation: str
) -> DecisionOutcome:
    input = api.pep.read_input(principal, resource, now=datetime.now(UTC), request_id=request_id(request))
    outcome = await api.pep.decide(
        input,
        operation=operation,
        instance=resource.instance_code.upper(),
        requested_by=requested_by(request),
        request_id=request_id(request),
    )
    api.metrics.count_decision(outcome.allow, outcome.as_json()["reasonCode"])  # type: ignore[arg-type]
    return outcome


def _enforce(api: ApiRuntime, resource: Resource, outcome: DecisionOutcome) -> None:
    """A deny is 403 with the reason and the checklist (§B.5.2), or a plain 404 when hiding is configured."""
    if outcome.allow:
        return
    if api.settings.deny_as_not_found:
        raise NotFoundError(f"There is no document {resource.resource_id!r}.")
    raise ForbiddenError("access_denied", outcome.decision.reason, details=denied_label(resource, outcome.as_json()))


def _content_headers(resource: Resource, outcome: DecisionOutcome) -> dict[str, str]:
    filename = f"{resource.resource_id}.{resource.file_type or 'bin'}"
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{filename}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-DIVE-Decision-Id": outcome.decision_id,
        "Accept-Ranges": "none",
    }
    if (resource.mime_type or "") in _ACTIVE_TYPES:
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return headers


def _mark_integrity_failed(api: ApiRuntime, resource_id: str) -> None:
    """CONSISTENCY #12: a failed reader verification is stored, so the pushdown stops listing the document."""
    with api.writer_sessions.begin() as session:
        ResourceRepository().set_integrity(session, resource_id, False)
    api.searcher.data_changed()  # the document leaves every list, so cached totals go


async def _record_federated(
    api: ApiRuntime, request: Request, principal: Principal, query: Mapping[str, object], body: Mapping[str, object]
) -> None:
    clusters = body.get("_clusters")
    instances = clusters.get("instances", {}) if isinstance(clusters, dict) else {}
    dropped = sum(int(c.get("dropped", 0)) for c in instances.values() if isinstance(c, dict))
    items = body.get("items")
    await api.pep.record_list(
        principal,
        query={**query, "federated": True},
        returned=len(items) if isinstance(items, list) else 0,
        dropped=dropped,
        revision=api.pep.engine.revision(),
        requested_by=requested_by(request),
        request_id=request_id(request),
        latency_ms=float(body.get("tookMs", 0.0)),  # type: ignore[arg-type]
    )
