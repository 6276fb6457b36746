"""Support for the in-process idp tests: the real app (create_app) over a temporary SQLite database, driven
by an httpx client over ASGITransport through an anyio portal, with a settable clock. Argon2 is cheap here."""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
from anyio.from_thread import BlockingPortal, start_blocking_portal
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive.idp.administration import create_client, create_realm, create_user
from dive.idp.app import create_app
from dive.idp.core import IdpCore
from dive.service.settings import load_service_settings

REALM = "dive-v3-broker-usa"
CLIENT_ID = "dive-v3-broker-usa"
CLIENT_SECRET = "app-client-secret-" + "x" * 24
BACKEND_SECRET = "backend-client-secret-" + "y" * 20
REDIRECT = "https://localhost:3000/auth/callback"
PASSWORD = "Test-user-pass-123!"
ADMIN_PASSWORD = "Admin-pass-1234567!"
BASE = "https://localhost:8443"
TOKEN_URL = f"/realms/{REALM}/protocol/openid-connect/token"


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class SyncClient:
    """Sync facade over `httpx.AsyncClient` + ASGITransport: the app runs in the portal's event loop."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal, self.http = portal, client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self.http.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@dataclass
class Idp:
    client: SyncClient
    core: IdpCore
    clock: FakeClock
    otp_secret: str

    def totp(self, offset_steps: int = 0) -> str:
        return pyotp.TOTP(self.otp_secret).at(self.clock.now().timestamp() + 30 * offset_steps)

    def password_grant(self, username: str, password: str = PASSWORD, **extra: str):
        form = {"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "username": username, "password": password, "scope": "openid", **extra}  # fmt: skip
        return self.client.post(TOKEN_URL, data=form)


def _environ(home: Path) -> dict[str, str]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return {
        "DIVE_HOME": str(home),
        "DIVE_ENV": "test",
        "DIVE_DATABASE_URL": f"sqlite:///{home / 'instance.db'}",
        "DIVE_PORT": "8443",
        "DIVE_SECRET_USA_DATA_PROTECTION_KEY": key,
        "DIVE_SECRET_USA_IDP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DIVE_IDP_ARGON2_TIME_COST": "1",
        "DIVE_IDP_ARGON2_MEMORY_KIB": "1024",
    }


def _seed(core: IdpCore, otp_secret: str) -> None:
    realm = create_realm(core, {"realm": REALM, "displayName": "DIVE V3 USA", "enabled": True})
    create_client(core, realm, {
        "clientId": CLIENT_ID, "secret": CLIENT_SECRET, "redirectUris": [REDIRECT],
        "directAccessGrantsEnabled": True,
        "attributes": {"pkce.code.challenge.method": "S256", "dive.audiences": "dive-v3-api,dive-v3-kas",
                       "post.logout.redirect.uris": "https://localhost:3000/"},
    })  # fmt: skip
    create_client(core, realm, {"clientId": "dive-v3-backend-client", "secret": BACKEND_SECRET,
                                "standardFlowEnabled": False, "serviceAccountsEnabled": True,
                                "attributes": {"access.token.lifespan": "300"}})  # fmt: skip
    create_user(core, realm, {
        "username": "testuser-usa-1", "email": "testuser-usa-1@example.mil", "enabled": True,
        "attributes": {"uniqueID": ["testuser-usa-1"], "clearance": ["UNCLASSIFIED"],
                       "countryOfAffiliation": ["USA"], "acpCOI": []},
        "credentials": [{"type": "password", "value": PASSWORD}],
    })  # fmt: skip
    create_user(core, realm, {
        "username": "testuser-usa-3", "enabled": True,
        "attributes": {"uniqueID": ["testuser-usa-3"], "clearance": ["CONFIDENTIAL"],
                       "countryOfAffiliation": ["USA"], "acpCOI": ["NATO"], "organizationType": ["GOV"]},
        "credentials": [{"type": "password", "value": PASSWORD},
                        {"type": "otp", "secretData": {"value": otp_secret},
                         "credentialData": {"subType": "totp", "digits": 6, "period": 30, "algorithm": "HmacSHA1"}}],
    })  # fmt: skip
    create_user(core, realm, {
        "username": "testuser-usa-4", "enabled": True,
        "attributes": {"uniqueID": ["testuser-usa-4"], "clearance": ["SECRET"], "countryOfAffiliation": ["USA"]},
        "credentials": [{"type": "password", "value": PASSWORD}],
    })  # fmt: skip


def start_idp(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[Idp]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings = load_service_settings("idp", "usa", {**_environ(home), **(extra_env or {})})
    clock = FakeClock()
    app = create_app(settings, clock=clock)
    otp_secret = pyotp.random_base32()
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(app.router.lifespan_context(app)):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, follow_redirects=False)
        core: IdpCore = app.state.idp
        _seed(core, otp_secret)
        try:
            yield Idp(client=SyncClient(portal, http), core=core, clock=clock, otp_secret=otp_secret)
        finally:
            portal.call(http.aclose)


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(os.urandom(40)).decode().rstrip("=")
    return verifier, create_s256_code_challenge(verifier)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def form_action(page: httpx.Response) -> str:
    found = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def authorize(idp: Idp, challenge: str | None, **params: str) -> httpx.Response:
    query = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid",
             "state": "st-1", "nonce": "n-1", **params}  # fmt: skip
    if challenge:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    return idp.client.get(f"/realms/{REALM}/protocol/openid-connect/auth", params=query)


def browser_login(idp: Idp, username: str, challenge: str, **params: str) -> dict[str, str]:
    """Drive the login form (and the OTP form for TOTP users) and return the redirect's query parameters."""
    page = authorize(idp, challenge, **params)
    assert page.status_code == 200, page.text
    response = idp.client.post(form_action(page), data={"csrf": csrf_of(page), "username": username,
                                                        "password": PASSWORD})  # fmt: skip
    if response.status_code == 200 and 'name="otp"' in response.text:
        response = idp.client.post(form_action(response), data={"csrf": csrf_of(response), "otp": idp.totp()})
    assert response.status_code == 302, response.text
    return redirect_params(response)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    assert location.startswith(REDIRECT), location
    return dict(parse_qsl(urlsplit(location).query))


def redeem(idp: Idp, code: str, verifier: str | None, redirect_uri: str = REDIRECT) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    return idp.client.post(TOKEN_URL, data=form, auth=(CLIENT_ID, CLIENT_SECRET))
