"""The browser login (§A.5.2, §A.7): authorization endpoint, password and OTP forms, TOTP enrolment,
RP-initiated logout. Auth and SSO sessions are server-side, identified by realm-scoped cookies."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import segno
from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from dive.idp import authentication
from dive.idp.administration import set_password
from dive.idp.core import IdpCore
from dive.idp.errors import AdminApiError, IdpError, LoginError
from dive.idp.logins import (
    AuthorizationRequest,
    RedirectableError,
    end_sso_session,
    issue_code,
    parse_authorization_request,
    start_sso_session,
)
from dive.idp.model import Realm, SsoSession, User
from dive.idp.oauth.rfc6749 import add_query, redirect_uri_matches
from dive.idp.pages import redirect, render
from dive.idp.routes.common import client_ip, core_of, find_realm, in_thread
from dive.idp.routes.oidc import backchannel_logout
from dive.idp.session_store import AuthSession
from dive.idp.sessions import is_session_alive
from dive.idp.totp import generate_totp_secret, provisioning_uri, verify_totp
from dive.idp.verification import verify_id_token_hint

__all__ = ["AUTH_COOKIE", "SSO_COOKIE", "auth_session_from_cookie", "complete_login", "login_page", "router"]

router = APIRouter()
AUTH_COOKIE = "DIVE_AUTH_SESSION"
SSO_COOKIE = "DIVE_IDP_SESSION"
LOGOUT_COOKIE = "DIVE_LOGOUT_CSRF"
AUTH_SESSION_S = 1800
ACTIONS = "/realms/{realm}/login-actions"


def _cookie_path(realm: Realm) -> str:
    return f"/realms/{realm.name}/"


def _set_cookie(response: Response, realm: Realm, name: str, value: str) -> None:
    response.set_cookie(name, value, path=_cookie_path(realm), httponly=True, secure=True, samesite="lax")


def _live_session(core: IdpCore, realm: Realm, request: Request) -> tuple[SsoSession, User] | None:
    session_id = request.cookies.get(SSO_COOKIE)
    session = core.store.sso_session(session_id) if session_id else None
    if session is None or session.realm_id != realm.id or not is_session_alive(session, realm, core.now()):
        return None
    user = core.directory.user(realm.id, session.user_id)
    return (session, user) if user is not None and user.enabled else None


@router.get("/realms/{realm}/protocol/openid-connect/auth")
async def authorize(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    return await in_thread(_authorize, core, found, request)


def _authorize(core: IdpCore, realm: Realm, request: Request) -> Response:
    try:
        _, auth = parse_authorization_request(core, realm, request.query_params)
    except LoginError as exc:
        return render("message.html", status=400, realm_name=realm.display_name, error=exc.message, message="")
    except RedirectableError as exc:
        return redirect(exc.location)
    live = None if auth.prompt == "login" else _live_session(core, realm, request)
    if live is not None and auth.max_age is not None and core.now_s() - live[0].auth_time > auth.max_age:
        live = None
    if live is not None and not (auth.wants_otp and live[0].acr < "2"):
        session, _ = live
        core.store.touch_sso_session(session.id, core.now())
        return redirect(issue_code(core, realm, auth, session))
    if auth.prompt == "none":
        return redirect(auth.error_redirect("login_required", "No valid SSO session"))
    stage, user_id = ("otp", live[1].id) if live is not None else ("password", None)
    login = AuthSession(id=secrets.token_urlsafe(24), realm_id=realm.id, params=auth.as_params(),
                        csrf=secrets.token_urlsafe(24), user_id=user_id, stage=stage,
                        expires_at=core.now() + timedelta(seconds=AUTH_SESSION_S))  # fmt: skip
    core.store.save_auth_session(login)
    if auth.kc_idp_hint and stage == "password":
        idp = core.directory.idp(realm.id, auth.kc_idp_hint, visible_at=core.visible_at())
        if idp is not None and idp.enabled:
            response: Response = redirect(f"/realms/{realm.name}/broker/{quote(idp.alias)}/login")
        else:
            response = login_page(core, realm, login, notice=f"Sign-in with {auth.kc_idp_hint} is not available.")
    elif stage == "otp":
        response = _second_factor_page(core, realm, login, live[1] if live else None)
    else:
        response = login_page(core, realm, login)
    _set_cookie(response, realm, AUTH_COOKIE, login.id)
    return response


def login_page(
    core: IdpCore, realm: Realm, login: AuthSession, *, error: str | None = None, notice: str | None = None
) -> Response:
    auth = AuthorizationRequest.from_params(login.params)
    providers = []
    if not auth.kc_idp_hint:
        idps = [i for i in core.directory.idps(realm.id, visible_at=core.visible_at())
                if i.enabled and not i.representation.get("hideOnLogin")]  # fmt: skip
        idps.sort(key=lambda i: (int(i.config("guiOrder") or 0), str(i.representation.get("displayName") or i.alias)))
        providers = [{"alias": i.alias, "display_name": i.representation.get("displayName") or i.alias,
                      "href": f"/realms/{realm.name}/broker/{quote(i.alias)}/login"} for i in idps]  # fmt: skip
    action = f"/realms/{realm.name}/login-actions/authenticate"
    return render(
        "login.html",
        realm_name=realm.display_name,
        action=action,
        csrf=login.csrf,
        username=auth.login_hint or "",
        providers=providers,
        error=error,
        notice=notice,
    )


def _second_factor_page(core: IdpCore, realm: Realm, login: AuthSession, user: User | None, *,
                        error: str | None = None) -> Response:  # fmt: skip
    if user is not None and not authentication.has_otp(core, user):
        secret = str(login.params.get("enrol_secret") or generate_totp_secret())
        if login.params.get("enrol_secret") != secret:
            login = replace(login, params={**login.params, "enrol_secret": secret}, stage="enrol")
            core.store.save_auth_session(login)
        grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        uri = provisioning_uri(secret, username=user.username, issuer=realm.display_name)
        return render("enrol.html", realm_name=realm.display_name, username=user.username, grouped_secret=grouped,
                      uri=uri, qr_svg=Markup(segno.make(uri, error="m").svg_inline(scale=4, title="TOTP QR code")),
                      action=f"/realms/{realm.name}/login-actions/otp", csrf=login.csrf, error=error)  # fmt: skip
    return render("otp.html", realm_name=realm.display_name, action=f"/realms/{realm.name}/login-actions/otp",
                  csrf=login.csrf, error=error)  # fmt: skip


async def _login_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def auth_session_from_cookie(core: IdpCore, realm: Realm, request: Request) -> AuthSession:
    login = core.store.auth_session(request.cookies.get(AUTH_COOKIE, ""), core.now())
    if login is None or login.realm_id != realm.id:
        raise LoginError("expired_code", "Your login attempt timed out. Login will start from the beginning.")
    return login


def _auth_session(core: IdpCore, realm: Realm, request: Request, form: dict[str, str]) -> AuthSession:
    login = auth_session_from_cookie(core, realm, request)
    if not hmac.compare_digest(form.get("csrf", ""), login.csrf):
        raise LoginError("invalid_csrf", "The form has expired; please sign in again.")
    return login


@router.post(ACTIONS + "/authenticate")
async def submit_password(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    form = await _login_form(request)
    return await in_thread(_submit_password, core, found, request, form)


def _submit_password(core: IdpCore, realm: Realm, request: Request, form: dict[str, str]) -> Response:
    try:
        login = _auth_session(core, realm, request, form)
    except LoginError as exc:
        return render("message.html", status=400, realm_name=realm.display_name, error=exc.message, message="")
    throttle = request.app.state.throttle
    if throttle.is_blocked(client_ip(request), core.now().timestamp()):
        return login_page(core, realm, login, error="Too many failed logins; try again in a minute.")
    auth = AuthorizationRequest.from_params(login.params)
    try:
        user = authentication.authenticate_password(core, realm, form.get("username", ""), form.get("password", ""),
                                                    ip=client_ip(request))  # fmt: skip
    except LoginError as exc:
        throttle.record_failure(client_ip(request), core.now().timestamp())
        core.event(realm, "LOGIN_ERROR", client_id=auth.client_id, ip_address=client_ip(request), error=exc.code,
                   details={"username": form.get("username", "").lower()})  # fmt: skip
        return login_page(core, realm, login, error=authentication.INVALID_CREDENTIALS)
    needs_otp = authentication.has_otp(core, user) or auth.wants_otp or authentication.must_enrol_otp(realm, user)
    if needs_otp:
        login = replace(login, user_id=user.id, stage="otp")
        core.store.save_auth_session(login)
        return _second_factor_page(core, realm, login, user)
    return _finish_local_login(core, realm, request, login, user, acr="1", amr=("pwd",))


@router.post(ACTIONS + "/otp")
async def submit_otp(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    form = await _login_form(request)
    return await in_thread(_submit_otp, core, found, request, form)


def _submit_otp(core: IdpCore, realm: Realm, request: Request, form: dict[str, str]) -> Response:
    try:
        login = _auth_session(core, realm, request, form)
        user = core.directory.user(realm.id, login.user_id or "")
        if user is None or login.stage not in ("otp", "enrol"):
            raise LoginError("invalid_user", "Your login attempt timed out. Login will start from the beginning.")
    except LoginError as exc:
        return render("message.html", status=400, realm_name=realm.display_name, error=exc.message, message="")
    code = form.get("otp", "").strip()
    if login.stage == "enrol":
        return _confirm_enrolment(core, realm, request, login, user, code)
    try:
        authentication.verify_second_factor(core, realm, user, code, ip=client_ip(request))
    except LoginError as exc:
        core.event(realm, "LOGIN_ERROR", user_id=user.id, ip_address=client_ip(request), error=exc.code)
        return _second_factor_page(core, realm, login, user, error="Invalid authenticator code.")
    return _finish_local_login(core, realm, request, login, user, acr="2", amr=("pwd", "otp"))


def _confirm_enrolment(core: IdpCore, realm: Realm, request: Request, login: AuthSession, user: User,
                       code: str) -> Response:  # fmt: skip
    secret = str(login.params.get("enrol_secret") or "")
    step = verify_totp(secret, code, now=core.now().timestamp(), last_used_step=None) if secret else None
    if step is None:
        return _second_factor_page(core, realm, login, user, error="Invalid authenticator code.")
    core.directory.set_otp(user.id, secret, now_ms=core.now_ms())
    credential = core.directory.otp(user.id)
    if credential is not None:
        core.directory.consume_otp_step(credential.id, step)  # the confirming code cannot be replayed
    if "CONFIGURE_TOTP" in user.required_actions:
        user = replace(user, required_actions=tuple(a for a in user.required_actions if a != "CONFIGURE_TOTP"))
        core.directory.update_user(user)
    core.event(realm, "UPDATE_TOTP", user_id=user.id, ip_address=client_ip(request))
    return _finish_local_login(core, realm, request, login, user, acr="2", amr=("pwd", "otp"))


def _finish_local_login(core: IdpCore, realm: Realm, request: Request, login: AuthSession, user: User, *,
                        acr: str, amr: tuple[str, ...]) -> Response:  # fmt: skip
    """Required action UPDATE_PASSWORD (temporary password, §A.7) comes before the session is created."""
    if "UPDATE_PASSWORD" not in user.required_actions:
        return complete_login(core, realm, request, login, user, acr=acr, amr=amr)
    login = replace(
        login, user_id=user.id, stage="update-password", params={**login.params, "acr": acr, "amr": list(amr)}
    )
    core.store.save_auth_session(login)
    return _update_password_page(realm, login)


def _update_password_page(realm: Realm, login: AuthSession, *, error: str | None = None) -> Response:
    return render("update_password.html", realm_name=realm.display_name, csrf=login.csrf, error=error,
                  action=f"/realms/{realm.name}/login-actions/update-password")  # fmt: skip


@router.post(ACTIONS + "/update-password")
async def submit_new_password(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    form = await _login_form(request)
    return await in_thread(_submit_new_password, core, found, request, form)


def _submit_new_password(core: IdpCore, realm: Realm, request: Request, form: dict[str, str]) -> Response:
    try:
        login = _auth_session(core, realm, request, form)
        user = core.directory.user(realm.id, login.user_id or "")
        if user is None or login.stage != "update-password":
            raise LoginError("invalid_user", "Your login attempt timed out. Login will start from the beginning.")
    except LoginError as exc:
        return render("message.html", status=400, realm_name=realm.display_name, error=exc.message, message="")
    new = form.get("password-new", "")
    if new != form.get("password-confirm", ""):
        return _update_password_page(realm, login, error="Passwords don't match.")
    try:
        set_password(core, realm, user, new, temporary=False)
    except AdminApiError as exc:
        return _update_password_page(realm, login, error=exc.body.get("error_description") or exc.message)
    core.event(realm, "UPDATE_PASSWORD", user_id=user.id, ip_address=client_ip(request))
    user = core.directory.user(realm.id, user.id) or user
    amr = tuple(str(a) for a in login.params.get("amr") or ["pwd"])
    return complete_login(core, realm, request, login, user, acr=str(login.params.get("acr") or "1"), amr=amr)


def complete_login(core: IdpCore, realm: Realm, request: Request, login: AuthSession, user: User, *, acr: str,
                   amr: tuple[str, ...], identity_provider: str | None = None) -> Response:  # fmt: skip
    """§A.7 result: the SSO session records acr/amr of this authentication; then the code is issued."""
    auth = AuthorizationRequest.from_params(login.params)
    authentication.record_success(core, user)
    previous = request.cookies.get(SSO_COOKIE)
    if previous:
        end_sso_session(core, realm, previous)
    session = start_sso_session(core, realm, user, acr=acr, amr=amr, identity_provider=identity_provider)
    core.store.delete_auth_session(login.id)
    core.event(realm, "LOGIN", client_id=auth.client_id, user_id=user.id, session_id=session.id,
               ip_address=client_ip(request), details={"username": user.username})  # fmt: skip
    response = redirect(issue_code(core, realm, auth, session))
    _set_cookie(response, realm, SSO_COOKIE, session.id)
    response.delete_cookie(AUTH_COOKIE, path=_cookie_path(realm))
    return response


@router.api_route("/realms/{realm}/protocol/openid-connect/logout", methods=["GET", "POST"])
async def logout(realm: str, request: Request) -> Response:
    core = core_of(request)
    found = await in_thread(find_realm, core, realm)
    params = {k: v for k, v in request.query_params.items() if v}
    if request.method == "POST":
        params.update({k: v for k, v in (await _login_form(request)).items() if v})
        if "refresh_token" in params:
            return await backchannel_logout(core, found, request, params)
    return await in_thread(_logout, core, found, request, params)


def _logout(core: IdpCore, realm: Realm, request: Request, params: dict[str, str]) -> Response:
    """§A.5.5: with a valid `id_token_hint` end the session at once; without, only a CSRF-checked POST does."""
    post_logout = params.get("post_logout_redirect_uri")
    hint = params.get("id_token_hint")
    claims = None
    if hint:
        try:
            claims = verify_id_token_hint(core, realm, hint)
        except IdpError:
            return render("message.html", status=400, realm_name=realm.display_name, message="",
                          error="Invalid id_token_hint.")  # fmt: skip
    client_id = params.get("client_id") or (str(claims.get("azp")) if claims else None)
    if post_logout and not _post_logout_allowed(core, realm, client_id, post_logout):
        return render("message.html", status=400, realm_name=realm.display_name, message="",
                      error="Invalid redirect uri.")  # fmt: skip
    confirmed = request.method == "POST" and hmac.compare_digest(
        params.get("csrf", "-"), request.cookies.get(LOGOUT_COOKIE, "")
    )
    if claims is None and not confirmed:
        csrf = secrets.token_urlsafe(24)
        action = add_query(f"/realms/{realm.name}/protocol/openid-connect/logout",
                           {"post_logout_redirect_uri": post_logout, "client_id": client_id,
                            "state": params.get("state")})  # fmt: skip
        page = render("message.html", realm_name=realm.display_name, message="Do you want to sign out?",
                      confirm_action=action, csrf=csrf)  # fmt: skip
        _set_cookie(page, realm, LOGOUT_COOKIE, csrf)
        return page
    for session_id in {request.cookies.get(SSO_COOKIE), str(claims.get("sid")) if claims else None} - {None, ""}:
        if session_id and end_sso_session(core, realm, session_id):
            core.event(realm, "LOGOUT", client_id=client_id, session_id=session_id)
    response = (redirect(add_query(post_logout, {"state": params.get("state")})) if post_logout
                else render("message.html", realm_name=realm.display_name, message="You are signed out."))  # fmt: skip
    response.delete_cookie(SSO_COOKIE, path=_cookie_path(realm))
    response.delete_cookie(LOGOUT_COOKIE, path=_cookie_path(realm))
    return response


def _post_logout_allowed(core: IdpCore, realm: Realm, client_id: str | None, uri: str) -> bool:
    client = core.directory.client_by_client_id(realm.id, client_id) if client_id else None
    if client is None:
        return False
    registered = [u for u in (client.attribute("post.logout.redirect.uris") or "").split("##") if u]
    if "+" in registered:  # Keycloak: "+" means "the redirect URIs"
        registered = [u for u in registered if u != "+"] + client.redirect_uris
    return redirect_uri_matches(uri, registered)
