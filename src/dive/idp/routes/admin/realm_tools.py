"""Caches, keys, key rotation and events of a realm (§A.2, §A.9), and the public IdP chooser data (§A.8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.representations import validation_error
from dive.idp.keys import keys_metadata
from dive.idp.routes.admin.auth import ADMIN, AdminContext, Page, admin_context, no_content, page
from dive.idp.routes.common import core_of, find_realm, in_thread
from dive.idp.session_store import EventQuery

__all__ = ["router"]

router = APIRouter()
MAX_EPOCH_MS_DIGITS = 15  # fits the BIGINT column with room to spare (year ~33,000)


@router.post(ADMIN + "/clear-realm-cache")
@router.post(ADMIN + "/clear-user-cache")
def clear_cache(ctx: AdminContext = Depends(admin_context)) -> Response:
    """Configuration is read from the database on every request, so there is no cache to drop."""
    return no_content()


@router.post(ADMIN + "/clear-keys-cache")
def clear_keys_cache(ctx: AdminContext = Depends(admin_context)) -> Response:
    """Also drops the cached partner JWKS (§A.9)."""
    ctx.core.partners.clear_keys()
    return no_content()


@router.get(ADMIN + "/keys")
def get_keys(ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    return keys_metadata(ctx.core.keys.all(ctx.realm))


@router.post(ADMIN + "/dive/rotate-keys")
def rotate_keys(ctx: AdminContext = Depends(admin_context)) -> dict[str, str]:
    return {"kid": ctx.core.keys.ensure(ctx.realm, ctx.core.now(), force=True).kid}


def _date_ms(value: str | None) -> int | None:
    """Keycloak's `dateFrom`/`dateTo` are `yyyy-MM-dd` or epoch milliseconds; anything else is a 400."""
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) <= MAX_EPOCH_MS_DIGITS:
        return int(value)
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise validation_error(f"Invalid date {value!r}: expected yyyy-MM-dd or epoch milliseconds") from None


@router.get(ADMIN + "/events")
def get_events(
    type: list[str] = Query(default=[]),
    user: str | None = None,
    client: str | None = None,
    dateFrom: str | None = None,
    dateTo: str | None = None,
    paging: Page = Depends(page),
    ctx: AdminContext = Depends(admin_context),
) -> list[dict[str, Any]]:
    query = EventQuery(types=type, user_id=user, client_id=client, date_from_ms=_date_ms(dateFrom),
                       date_to_ms=_date_ms(dateTo))  # fmt: skip
    return ctx.core.store.events(ctx.realm.id, query, first=paging.first, limit=paging.limit)


@router.get("/realms/{realm}/dive/idps")
async def chooser(realm: str, request: Request) -> list[dict[str, Any]]:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    idps = await in_thread(core.directory.idps, found.id, visible_at=core.visible_at())
    visible = [i for i in idps if i.enabled and not i.representation.get("hideOnLogin")]
    return [{"alias": i.alias, "displayName": i.representation.get("displayName") or i.alias,
             "guiOrder": i.config("guiOrder") or ""} for i in visible]  # fmt: skip
