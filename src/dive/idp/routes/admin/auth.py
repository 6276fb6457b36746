"""Admin authentication (§A.9): a bearer access token of the `master` realm holding the realm role `admin`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.core import IdpCore
from dive.idp.errors import AdminApiError, IdpError
from dive.idp.model import Realm
from dive.idp.realm_names import MASTER_REALM
from dive.idp.routes.common import core_of
from dive.idp.verification import verify_access_token

__all__ = [
    "ADMIN",
    "AdminContext",
    "Page",
    "admin_context",
    "admin_core",
    "created",
    "no_content",
    "not_found",
    "page",
]

ADMIN = "/admin/realms/{realm}"
MAX_PAGE = 1000


@dataclass(frozen=True)
class AdminContext:
    core: IdpCore
    realm: Realm
    admin_id: str


@dataclass(frozen=True)
class Page:
    first: int
    limit: int


def _authenticate(request: Request) -> IdpCore:
    core = core_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    master = core.directory.realm(MASTER_REALM)
    if scheme.lower() != "bearer" or master is None:
        raise AdminApiError(401, {"error": "HTTP 401 Unauthorized"}, "unauthorized")
    try:
        claims = verify_access_token(core, master, token.strip())
    except IdpError as exc:
        raise AdminApiError(401, {"error": "HTTP 401 Unauthorized"}, "unauthorized") from exc
    if "admin" not in (claims.get("realm_access") or {}).get("roles", []):
        raise AdminApiError(403, {"error": "forbidden"}, "forbidden")
    request.state.admin_id = str(claims["sub"])
    return core


def admin_core(request: Request) -> IdpCore:
    """Authenticated, for routes without a realm in the path."""
    return _authenticate(request)


def admin_context(realm: str, request: Request) -> AdminContext:
    core = _authenticate(request)
    found = core.directory.realm(realm)
    if found is None:
        raise AdminApiError(404, {"error": "Realm not found."}, "not_found")
    return AdminContext(core, found, request.state.admin_id)


def page(first: int = 0, max: int = 100) -> Page:
    if first < 0 or max < 0:
        raise AdminApiError(400, {"errorMessage": "first and max must not be negative"}, "validation_failed")
    return Page(first=first, limit=min(max, MAX_PAGE))


def not_found(what: str) -> AdminApiError:
    return AdminApiError(404, {"error": f"{what} not found"}, "not_found")


def created(request: Request, identifier: str) -> Response:
    """201 with Location and an empty body (python-keycloak parses the id after the last `/`); the id is
    percent-encoded, as role names may hold any character."""
    location = str(request.url).split("?")[0].rstrip("/") + "/" + quote(identifier, safe="")
    return Response(status_code=201, headers={"Location": location})


def no_content() -> Response:
    return Response(status_code=204)
