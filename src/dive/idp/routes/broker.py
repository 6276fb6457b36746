"""Broker routes (§A.8): `/realms/{r}/broker/{alias}/login` and `/realms/{r}/broker/{alias}/endpoint`."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dive.idp.broker.flow import begin_broker_login, finish_broker_login
from dive.idp.core import IdpCore
from dive.idp.errors import BrokerError, LoginError
from dive.idp.logins import AuthorizationRequest
from dive.idp.model import Realm
from dive.idp.pages import redirect, render
from dive.idp.routes.common import client_ip, core_of, find_realm, in_thread
from dive.idp.routes.login import auth_session_from_cookie, complete_login, login_page

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/realms/{realm}/broker/{alias}/login")
async def broker_login(realm: str, alias: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    return await in_thread(_broker_login, core, found, alias, request)


def _broker_login(core: IdpCore, realm: Realm, alias: str, request: Request) -> Response:
    try:
        login = auth_session_from_cookie(core, realm, request)
        return redirect(begin_broker_login(core, realm, alias, login))
    except (LoginError, BrokerError) as exc:
        return render("message.html", status=400, realm_name=realm.display_name, error=exc.message, message="")


@router.get("/realms/{realm}/broker/{alias}/endpoint")
async def broker_endpoint(realm: str, alias: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    return await in_thread(_broker_endpoint, core, found, alias, request)


def _broker_endpoint(core: IdpCore, realm: Realm, alias: str, request: Request) -> Response:
    query = dict(request.query_params)
    try:
        result = finish_broker_login(core, realm, alias, query)
    except BrokerError as exc:
        log.info("broker login failed", extra={"realm": realm.name, "alias": alias, "error": exc.code})
        core.event(realm, "IDENTITY_PROVIDER_LOGIN_ERROR", ip_address=client_ip(request), error=exc.code,
                   details={"identity_provider": alias, "reason": exc.message})  # fmt: skip
        return _failure_page(core, realm, alias, request)
    return complete_login(core, realm, request, result.login, result.user, acr=result.acr, amr=result.amr,
                          identity_provider=alias)  # fmt: skip


def _failure_page(core: IdpCore, realm: Realm, alias: str, request: Request) -> Response:
    """Back to the sign-in page with a notice; for `prompt=none` requests an error redirect to the client."""
    idp = core.directory.idp(realm.id, alias)
    name = str((idp.representation.get("displayName") if idp else None) or alias)
    message = f"Sign-in at {name} failed or was cancelled."
    try:
        login = auth_session_from_cookie(core, realm, request)
    except LoginError:
        return render("message.html", status=400, realm_name=realm.display_name, error=message, message="")
    auth = AuthorizationRequest.from_params(login.params)
    if auth.prompt == "none":
        return redirect(auth.error_redirect("login_required", message))
    return login_page(core, realm, login, error=message)
