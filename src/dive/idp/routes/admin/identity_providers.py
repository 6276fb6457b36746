"""`/admin/realms/{r}/identity-provider/instances` and their mappers (§A.8, §A.9)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.identity_providers import idp_from_rep, idp_to_rep, validate_mapper
from dive.idp.admin.schemas import IdentityProviderRep, MapperRep, body
from dive.idp.logins import end_sso_session
from dive.idp.repository import IdentityProvider
from dive.idp.routes.admin.auth import ADMIN, AdminContext, admin_context, created, no_content, not_found

__all__ = ["router"]

router = APIRouter()
IDPS = ADMIN + "/identity-provider/instances"


def _find(ctx: AdminContext, alias: str) -> IdentityProvider:
    idp = ctx.core.directory.idp(ctx.realm.id, alias)
    if idp is None:
        raise not_found("Identity Provider")
    return idp


@router.get(IDPS)
def list_idps(ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    return [idp_to_rep(i) for i in ctx.core.directory.idps(ctx.realm.id)]


@router.post(IDPS)
def post_idp(request: Request, rep: IdentityProviderRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    idp = idp_from_rep(body(rep), base=None)
    ctx.core.directory.create_idp(ctx.realm.id, idp, visible_at=ctx.core.change_visible_from())
    return created(request, idp.alias)


@router.get(IDPS + "/{alias}")
def get_idp(alias: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    return idp_to_rep(_find(ctx, alias))


@router.put(IDPS + "/{alias}")
def put_idp(alias: str, rep: IdentityProviderRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    idp = idp_from_rep({**body(rep), "alias": alias}, base=_find(ctx, alias))
    ctx.core.directory.update_idp(ctx.realm.id, idp, visible_at=ctx.core.change_visible_from())
    return no_content()


@router.delete(IDPS + "/{alias}")
def delete_idp(alias: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    _find(ctx, alias)
    for user_id in ctx.core.directory.delete_idp(ctx.realm.id, alias):
        for session in ctx.core.store.user_sessions(user_id):
            end_sso_session(ctx.core, ctx.realm, session.id)
    return no_content()


@router.get(IDPS + "/{alias}/mappers")
def list_mappers(alias: str, ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    _find(ctx, alias)
    return ctx.core.directory.mappers(ctx.realm.id, alias)


@router.post(IDPS + "/{alias}/mappers")
def post_mapper(alias: str, request: Request, rep: MapperRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    _find(ctx, alias)
    mapper_id = ctx.core.directory.add_mapper(ctx.realm.id, alias, validate_mapper(body(rep)))
    return created(request, mapper_id)


@router.get(IDPS + "/{alias}/mappers/{mapper_id}")
def get_mapper(alias: str, mapper_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    for mapper in ctx.core.directory.mappers(ctx.realm.id, alias):
        if mapper["id"] == mapper_id:
            return mapper
    raise not_found("Mapper")


@router.put(IDPS + "/{alias}/mappers/{mapper_id}")
def put_mapper(alias: str, mapper_id: str, rep: MapperRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    if not ctx.core.directory.update_mapper(ctx.realm.id, mapper_id, validate_mapper(body(rep))):
        raise not_found("Mapper")
    return no_content()


@router.delete(IDPS + "/{alias}/mappers/{mapper_id}")
def delete_mapper(alias: str, mapper_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    if not ctx.core.directory.delete_mapper(ctx.realm.id, mapper_id):
        raise not_found("Mapper")
    return no_content()
