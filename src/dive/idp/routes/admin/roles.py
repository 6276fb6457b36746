"""Realm roles and user role mappings (§A.9)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.representations import validation_error
from dive.idp.admin.schemas import RoleRep
from dive.idp.administration import assign_roles
from dive.idp.routes.admin.auth import ADMIN, AdminContext, Page, admin_context, created, no_content, not_found, page
from dive.idp.routes.admin.users import find_user

__all__ = ["router"]

router = APIRouter()


@router.get(ADMIN + "/roles")
def list_roles(ctx: AdminContext = Depends(admin_context), paging: Page = Depends(page)) -> list[dict[str, Any]]:
    return ctx.core.directory.roles(ctx.realm.id, first=paging.first, limit=paging.limit)


@router.post(ADMIN + "/roles")
def post_role(request: Request, rep: RoleRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    name = rep.name
    if not name:
        raise validation_error("Role name is missing")
    ctx.core.directory.create_role(ctx.realm.id, name, rep.description)
    return created(request, name)


@router.get(ADMIN + "/roles/{name}")
def get_role(name: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    role = ctx.core.directory.role(ctx.realm.id, name)
    if role is None:
        raise not_found("Could not find role")
    return role


@router.get(ADMIN + "/users/{user_id}/role-mappings/realm")
def user_realm_roles(user_id: str, ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    return ctx.core.directory.user_roles(find_user(ctx, user_id).id)


@router.post(ADMIN + "/users/{user_id}/role-mappings/realm")
def add_user_roles(user_id: str, roles: list[RoleRep], ctx: AdminContext = Depends(admin_context)) -> Response:
    user = find_user(ctx, user_id)
    assign_roles(ctx.core, ctx.realm, user, [str(r.name) for r in roles])
    return no_content()


@router.delete(ADMIN + "/users/{user_id}/role-mappings/realm")
def remove_user_roles(user_id: str, roles: list[RoleRep], ctx: AdminContext = Depends(admin_context)) -> Response:
    user = find_user(ctx, user_id)
    ids = [role["id"] for r in roles if (role := ctx.core.directory.role(ctx.realm.id, str(r.name)))]
    ctx.core.directory.remove_roles(user.id, ids)
    return no_content()
