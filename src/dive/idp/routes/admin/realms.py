"""`/admin/realms` (§A.9): list, create (with one-shot import), read, update top-level settings, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.schemas import RealmRep, body
from dive.idp.administration import create_realm
from dive.idp.core import IdpCore
from dive.idp.errors import AdminApiError
from dive.idp.model import REALM_DEFAULTS, Realm
from dive.idp.realm_names import MASTER_REALM
from dive.idp.routes.admin.auth import ADMIN, AdminContext, admin_context, admin_core, created, no_content

__all__ = ["realm_to_rep", "router"]

router = APIRouter()
_NOT_UPDATABLE = ("users", "clients", "roles", "identityProviders", "identityProviderMappers", "id", "realm")


def realm_to_rep(realm: Realm) -> dict[str, Any]:
    defaults = {k: v for k, v in REALM_DEFAULTS.items() if k != "attributes"}
    attributes = {**REALM_DEFAULTS["attributes"], **(realm.representation.get("attributes") or {})}
    return {**defaults, **realm.representation, "id": realm.id, "realm": realm.name, "attributes": attributes}


@router.get("/admin/realms")
def list_realms(core: IdpCore = Depends(admin_core)) -> list[dict[str, Any]]:
    return [realm_to_rep(r) for r in core.directory.realms()]


@router.post("/admin/realms")
def post_realm(request: Request, rep: RealmRep, core: IdpCore = Depends(admin_core)) -> Response:
    realm = create_realm(core, body(rep))
    return created(request, realm.name)


@router.get(ADMIN)
def get_realm(ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    return realm_to_rep(ctx.realm)


@router.put(ADMIN)
def put_realm(rep: RealmRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    updates = {k: v for k, v in body(rep).items() if k not in _NOT_UPDATABLE}
    ctx.core.directory.update_realm(ctx.realm, {**ctx.realm.representation, **updates})
    return no_content()


@router.delete(ADMIN)
def delete_realm(ctx: AdminContext = Depends(admin_context)) -> Response:
    if ctx.realm.name == MASTER_REALM:
        raise AdminApiError(400, {"errorMessage": "The master realm cannot be deleted"}, "validation_failed")
    ctx.core.directory.delete_realm(ctx.realm)
    return no_content()
