"""Brokering between two real idp processes (identity-api-ui §A.8): the hub (USA) trusts FRA as `fra-idp`.
The browser is an httpx client following the redirects by hand over verified HTTPS."""

from __future__ import annotations

import html
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from harness import pick_free_port, start_service
from partner_idp import admin_client, fast_idp_environment

PASSWORD = "Test-user-pass-123!"
HUB_REALM, FRA_REALM = "dive-v3-broker-usa", "dive-v3-broker-fra"
WEB_SECRET, FEDERATION_SECRET = "web-secret-" + "w" * 30, "federation-secret-" + "f" * 30
WEB_REDIRECT = "https://localhost:3000/auth/callback"
IMPORTER = "oidc-user-attribute-idp-mapper"


@dataclass(frozen=True)
class Pair:
    hub: str
    fra: str
    ca: ssl.SSLContext
    otp_secret: str


def _configure_fra(base: str, hub: str, ca: ssl.SSLContext, otp_secret: str) -> None:
    with admin_client(base, ca) as admin:
        users = [
            {"username": "testuser-fra-1", "email": "un@defense.gouv.fr",
             "attributes": {"uniqueID": ["testuser-fra-1"], "clearance": ["NON PROTEGE"],
                            "countryOfAffiliation": ["FRA"], "acpCOI": ["NATO", "EU"]},
             "credentials": [{"type": "password", "value": PASSWORD}]},
            {"username": "testuser-fra-3",
             "attributes": {"uniqueID": ["testuser-fra-3"], "clearance": ["CONFIDENTIEL DEFENSE"],
                            "countryOfAffiliation": ["FRA"]},
             "credentials": [{"type": "password", "value": PASSWORD},
                             {"type": "otp", "secretData": {"value": otp_secret}}]},
            {"username": "impostor-deu",
             "attributes": {"uniqueID": ["impostor-deu"], "clearance": ["OFFEN"], "countryOfAffiliation": ["DEU"]},
             "credentials": [{"type": "password", "value": PASSWORD}]},
        ]  # fmt: skip
        realm = {"realm": FRA_REALM, "enabled": True, "users": users,
                 "clients": [{"clientId": HUB_REALM, "secret": FEDERATION_SECRET,
                              "redirectUris": [f"{hub}/realms/{HUB_REALM}/broker/fra-idp/endpoint"],
                              "attributes": {"access.token.lifespan": "300"}}]}  # fmt: skip
        assert admin.post("/admin/realms", json=realm).status_code == 201


def _configure_hub(base: str, fra: str, ca: ssl.SSLContext) -> None:
    oidc = f"{fra}/realms/{FRA_REALM}/protocol/openid-connect"
    idp = {"alias": "fra-idp", "displayName": "France", "providerId": "oidc", "enabled": True,
           "config": {"authorizationUrl": f"{oidc}/auth", "tokenUrl": f"{oidc}/token", "jwksUrl": f"{oidc}/certs",
                      "issuer": f"{fra}/realms/{FRA_REALM}", "clientId": HUB_REALM, "clientSecret": FEDERATION_SECRET,
                      "clientAuthMethod": "client_secret_post", "defaultScope": "openid profile email",
                      "syncMode": "FORCE", "validateSignature": "true", "useJwksUrl": "true", "pkceEnabled": "true",
                      "pkceMethod": "S256", "guiOrder": "2", "dive.expectedCountry": "FRA"}}  # fmt: skip
    claims = ["uniqueID", "clearance", "countryOfAffiliation", "acpCOI", "organizationType", "email"]
    mappers = [{"name": c, "identityProviderAlias": "fra-idp", "identityProviderMapper": IMPORTER,
                "config": {"claim": c, "user.attribute": c, "syncMode": "INHERIT"}} for c in claims]  # fmt: skip
    realm = {"realm": HUB_REALM, "enabled": True, "identityProviders": [idp], "identityProviderMappers": mappers,
             "users": [{"username": "fra-idp.testuser-fra-1", "attributes": {"clearance": ["TOP SECRET"]}}],
             "clients": [{"clientId": HUB_REALM, "secret": WEB_SECRET, "redirectUris": [WEB_REDIRECT],
                          "attributes": {"pkce.code.challenge.method": "S256",
                                         "dive.audiences": "dive-v3-api,dive-v3-kas"}}]}  # fmt: skip
    with admin_client(base, ca) as admin:
        assert admin.post("/admin/realms", json=realm).status_code == 201


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    home = Path(tmp_path_factory.mktemp("broker-home"))
    hub_port, fra_port = pick_free_port(), pick_free_port()
    with (
        start_service(
            "idp", "usa", home=home, env=fast_idp_environment("USA"), port=hub_port, timeout_s=60
        ) as hub_process,
        start_service("idp", "fra", home=home, env=fast_idp_environment("FRA"), port=fra_port, timeout_s=60),
    ):
        hub, fra = f"https://localhost:{hub_port}", f"https://localhost:{fra_port}"
        ca = ssl.create_default_context(cafile=str(hub_process.ca_bundle))
        otp_secret = pyotp.random_base32()
        _configure_fra(fra, hub, ca, otp_secret)
        _configure_hub(hub, fra, ca)
        yield Pair(hub=hub, fra=fra, ca=ca, otp_secret=otp_secret)


def _follow(browser: httpx.Client, response: httpx.Response, until: str) -> httpx.Response:
    while response.status_code == 302 and not response.headers["location"].startswith(until):
        location = response.headers["location"]
        response = browser.get(location if location.startswith("https://") else str(response.url.join(location)))
    return response


def _submit(browser: httpx.Client, page: httpx.Response, **fields: str) -> httpx.Response:
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser.post(str(page.url.join(action)), data={"csrf": csrf, **fields})


def _hub_login(pair: Pair, browser: httpx.Client, username: str, verifier: str, **extra: str) -> httpx.Response:
    params = {"client_id": HUB_REALM, "redirect_uri": WEB_REDIRECT, "response_type": "code", "scope": "openid",
              "state": "web-state", "nonce": "web-nonce", "kc_idp_hint": "fra-idp", "code_challenge_method": "S256",
              "code_challenge": create_s256_code_challenge(verifier), **extra}  # fmt: skip
    start = browser.get(f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/auth", params=params)
    partner_page = _follow(browser, start, until=WEB_REDIRECT)
    assert partner_page.status_code == 200 and partner_page.url.port == urlsplit(pair.fra).port
    answer = _submit(browser, partner_page, username=username, password=PASSWORD)
    if answer.status_code == 200 and 'name="otp"' in answer.text:
        answer = _submit(browser, answer, otp=pyotp.TOTP(pair.otp_secret).now())
    return _follow(browser, answer, until=WEB_REDIRECT)


def _hub_tokens(pair: Pair, done: httpx.Response, verifier: str) -> dict[str, object]:
    assert done.status_code == 302 and done.headers["location"].startswith(WEB_REDIRECT), done.text
    code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
    with httpx.Client(verify=pair.ca) as client:
        tokens = client.post(f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/token",
                             data={"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_REDIRECT,
                                   "code_verifier": verifier}, auth=(HUB_REALM, WEB_SECRET)).json()  # fmt: skip
        jwks = KeySet.import_key_set(client.get(f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/certs").json())
    return dict(jwt.decode(tokens["access_token"], jwks, algorithms=["RS256"]).claims)


def test_brokered_login_maps_claims_and_never_links_the_existing_local_user(pair):
    verifier = pyotp.random_base32(64)
    with httpx.Client(verify=pair.ca) as browser:
        claims = _hub_tokens(pair, _hub_login(pair, browser, "testuser-fra-1", verifier), verifier)
    assert claims["iss"] == f"{pair.hub}/realms/{HUB_REALM}"
    assert claims["preferred_username"] == "fra-idp.testuser-fra-1-2"  # the local namesake stays separate
    assert claims["clearance"] == "NON PROTEGE" and claims["countryOfAffiliation"] == "FRA"
    assert claims["acpCOI"] == ["NATO", "EU"] and claims["email"] == "un@defense.gouv.fr"
    assert claims["identity_provider"] == "fra-idp"
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"] and claims["user_acr"] == "1"


def test_partner_totp_login_passes_acr_2_through_to_hub_tokens(pair):
    verifier = pyotp.random_base32(64)
    with httpx.Client(verify=pair.ca) as browser:
        claims = _hub_tokens(pair, _hub_login(pair, browser, "testuser-fra-3", verifier, acr_values="2"), verifier)
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"] and claims["user_amr"] == ["pwd", "otp"]
    assert claims["clearance"] == "CONFIDENTIEL DEFENSE"


def test_partner_asserting_a_foreign_national_is_rejected(pair):
    verifier = pyotp.random_base32(64)
    with httpx.Client(verify=pair.ca) as browser:
        page = _hub_login(pair, browser, "impostor-deu", verifier)
    assert page.status_code == 200 and "Sign-in at France failed or was cancelled." in page.text


def test_tampered_broker_state_is_rejected(pair):
    with httpx.Client(verify=pair.ca) as browser:
        params = {"client_id": HUB_REALM, "redirect_uri": WEB_REDIRECT, "response_type": "code", "scope": "openid",
                  "code_challenge": create_s256_code_challenge("v" * 50), "code_challenge_method": "S256"}  # fmt: skip
        browser.get(f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/auth", params=params)
        page = browser.get(f"{pair.hub}/realms/{HUB_REALM}/broker/fra-idp/endpoint",
                           params={"state": "forged", "code": "whatever"})  # fmt: skip
    assert "Sign-in at France failed or was cancelled." in page.text
    assert "Sign in with France" in page.text  # the chooser is shown again


def test_replayed_partner_code_at_the_broker_endpoint_is_rejected(pair):
    """The partner's code and the broker state are single-use: replaying the callback fails (§A.8)."""
    verifier = pyotp.random_base32(64)
    endpoint = f"{pair.hub}/realms/{HUB_REALM}/broker/fra-idp/endpoint"
    with httpx.Client(verify=pair.ca) as browser:
        params = {"client_id": HUB_REALM, "redirect_uri": WEB_REDIRECT, "response_type": "code", "scope": "openid",
                  "state": "web-state", "nonce": "web-nonce", "kc_idp_hint": "fra-idp",
                  "code_challenge_method": "S256", "code_challenge": create_s256_code_challenge(verifier)}  # fmt: skip
        start = browser.get(f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/auth", params=params)
        partner_page = _follow(browser, start, until=WEB_REDIRECT)
        callback = _submit(browser, partner_page, username="testuser-fra-1", password=PASSWORD)
        assert callback.status_code == 302 and callback.headers["location"].startswith(endpoint)
        callback_url = callback.headers["location"]
        done = _follow(browser, browser.get(callback_url), until=WEB_REDIRECT)
        assert done.headers["location"].startswith(WEB_REDIRECT)
        replay = _follow(browser, browser.get(callback_url), until=WEB_REDIRECT)
    assert replay.status_code == 400, replay.text  # refused: no second code for the web client
    assert "location" not in replay.headers


@pytest.mark.slow
def test_partner_key_rotation_is_picked_up_through_a_jwks_refresh_on_unknown_kid(pair):
    with admin_client(pair.fra, pair.ca) as fra_admin:
        assert fra_admin.post(f"/admin/realms/{FRA_REALM}/dive/rotate-keys").status_code == 200
    time.sleep(10.5)  # the hub refreshes a partner JWKS at most once per 10 s (§A.8 step 4)
    verifier = pyotp.random_base32(64)
    with httpx.Client(verify=pair.ca) as browser:
        claims = _hub_tokens(pair, _hub_login(pair, browser, "testuser-fra-1", verifier), verifier)
    assert claims["preferred_username"] == "fra-idp.testuser-fra-1-2"  # the existing link, not a new user


def test_deleting_the_identity_provider_ends_the_sessions_of_its_users(pair):
    verifier = pyotp.random_base32(64)
    with httpx.Client(verify=pair.ca) as browser:
        done = _hub_login(pair, browser, "testuser-fra-1", verifier)
    code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
    token_url = f"{pair.hub}/realms/{HUB_REALM}/protocol/openid-connect/token"
    with httpx.Client(verify=pair.ca) as client:
        tokens = client.post(token_url, data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": WEB_REDIRECT, "code_verifier": verifier},
                             auth=(HUB_REALM, WEB_SECRET)).json()  # fmt: skip
        with admin_client(pair.hub, pair.ca) as hub_admin:
            deleted = hub_admin.delete(f"/admin/realms/{HUB_REALM}/identity-provider/instances/fra-idp")
            assert deleted.status_code == 204
            users = hub_admin.get(f"/admin/realms/{HUB_REALM}/users", params={"search": "fra-idp."}).json()
        refresh = client.post(token_url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                              auth=(HUB_REALM, WEB_SECRET))  # fmt: skip
    assert refresh.json()["error_description"] == "Session not active"
    assert sorted(u["username"] for u in users) == [  # the users remain, as in Keycloak
        "fra-idp.testuser-fra-1",
        "fra-idp.testuser-fra-1-2",
        "fra-idp.testuser-fra-3",
    ]
