"""`/admin/realms/{r}/clients` (§A.9): exact `clientId` search, CRUD, client secret read and regenerate."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.representations import client_to_rep
from dive.idp.admin.schemas import ClientRep, body
from dive.idp.administration import create_client, update_client
from dive.idp.model import Client
from dive.idp.routes.admin.auth import ADMIN, AdminContext, Page, admin_context, created, no_content, not_found, page

__all__ = ["router"]

router = APIRouter()
CLIENTS = ADMIN + "/clients"


def _find(ctx: AdminContext, row_id: str) -> Client:
    client = ctx.core.directory.client(ctx.realm.id, row_id)
    if client is None:
        raise not_found("Client")
    return client


@router.get(CLIENTS)
def list_clients(
    clientId: str | None = None,
    paging: Page = Depends(page),
    ctx: AdminContext = Depends(admin_context),
) -> list[dict[str, Any]]:
    if clientId is not None:
        found = ctx.core.directory.client_by_client_id(ctx.realm.id, clientId)
        return [client_to_rep(found)] if found and paging.first == 0 and paging.limit > 0 else []
    return [client_to_rep(c) for c in ctx.core.directory.clients(ctx.realm.id, first=paging.first, limit=paging.limit)]


@router.post(CLIENTS)
def post_client(request: Request, rep: ClientRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    client = create_client(ctx.core, ctx.realm, body(rep))
    return created(request, client.id)


@router.get(CLIENTS + "/{row_id}")
def get_client(row_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    return client_to_rep(_find(ctx, row_id))


@router.put(CLIENTS + "/{row_id}")
def put_client(row_id: str, rep: ClientRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    update_client(ctx.core, ctx.realm, _find(ctx, row_id), body(rep))
    return no_content()


@router.delete(CLIENTS + "/{row_id}")
def delete_client(row_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    ctx.core.directory.delete_client(_find(ctx, row_id).id)
    return no_content()


@router.get(CLIENTS + "/{row_id}/client-secret")
def get_secret(row_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    client = _find(ctx, row_id)
    return {"type": "secret", "value": client.secret}


@router.post(CLIENTS + "/{row_id}/client-secret")
def regenerate_secret(row_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    client = _find(ctx, row_id)
    if client.public:
        return {"type": "secret", "value": None}
    renewed = replace(client, secret=secrets.token_urlsafe(32))
    ctx.core.directory.update_client(renewed, visible_at=ctx.core.change_visible_from())
    return {"type": "secret", "value": renewed.secret}
