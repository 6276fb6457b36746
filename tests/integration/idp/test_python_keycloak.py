"""Conformance with the unmodified python-keycloak 7.1.1 client (identity-api-ui §A.10), against a real
`dive serve idp` process over verified HTTPS."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError, KeycloakPutError

# python-keycloak hands `verify=<CA path>` to its internal httpx client too, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")

REALM = "dive-v3-broker-usa"
APP_SECRET = "app-secret-" + "a" * 32
BACKEND_SECRET = "backend-secret-" + "b" * 32
PASSWORD = "Test-user-pass-123!"
REDIRECT = "https://localhost:3000/auth/callback"


@dataclass(frozen=True)
class World:
    admin: KeycloakAdmin
    openid: KeycloakOpenID
    backend: KeycloakOpenID
    otp_secret: str
    url: str
    ca_bundle: str


@pytest.fixture(scope="module")
def world(running_idp) -> Iterator[World]:
    connection = KeycloakOpenIDConnection(server_url=running_idp.url + "/", username="admin",
                                          password=running_idp.admin_password, realm_name=REALM,
                                          user_realm_name="master", client_id="admin-cli",
                                          verify=running_idp.ca_bundle)  # fmt: skip
    admin = KeycloakAdmin(connection=connection)
    admin.create_realm({"realm": REALM, "enabled": True, "displayName": "DIVE V3 USA"})
    admin.create_client({"clientId": REALM, "secret": APP_SECRET, "redirectUris": [REDIRECT],
                         "directAccessGrantsEnabled": True,
                         "attributes": {"pkce.code.challenge.method": "S256",
                                        "dive.audiences": "dive-v3-api,dive-v3-kas"}})  # fmt: skip
    admin.create_client({"clientId": "dive-v3-backend-client", "secret": BACKEND_SECRET,
                         "standardFlowEnabled": False, "serviceAccountsEnabled": True})  # fmt: skip
    otp_secret = pyotp.random_base32()
    admin.create_user({"username": "testuser-usa-1", "enabled": True,
                       "attributes": {"clearance": ["UNCLASSIFIED"], "countryOfAffiliation": ["USA"]},
                       "credentials": [{"type": "password", "value": PASSWORD}]})  # fmt: skip
    admin.create_user({"username": "testuser-usa-3", "enabled": True,
                       "attributes": {"clearance": ["CONFIDENTIAL"], "countryOfAffiliation": ["USA"]},
                       "credentials": [{"type": "password", "value": PASSWORD},
                                       {"type": "otp", "secretData": {"value": otp_secret}}]})  # fmt: skip
    openid = KeycloakOpenID(server_url=running_idp.url + "/", realm_name=REALM, client_id=REALM,
                            client_secret_key=APP_SECRET, verify=running_idp.ca_bundle)  # fmt: skip
    backend = KeycloakOpenID(server_url=running_idp.url + "/", realm_name=REALM, client_id="dive-v3-backend-client",
                             client_secret_key=BACKEND_SECRET, verify=running_idp.ca_bundle)  # fmt: skip
    yield World(admin, openid, backend, otp_secret, running_idp.url, running_idp.ca_bundle)


def test_well_known_certs_and_public_key(world):
    assert world.openid.well_known()["issuer"] == f"{world.url}/realms/{REALM}"
    assert world.openid.certs()["keys"][0]["alg"] == "RS256"
    assert len(world.openid.public_key()) > 300


def test_password_token_userinfo_introspect_and_logout(world):
    tokens = world.openid.token("testuser-usa-1", PASSWORD)
    assert world.openid.userinfo(tokens["access_token"])["preferred_username"] == "testuser-usa-1"
    assert world.openid.introspect(tokens["access_token"])["active"] is True
    decoded = world.openid.decode_token(tokens["access_token"])
    assert decoded["aud"] == ["dive-v3-api", "dive-v3-kas"]
    assert world.openid.logout(tokens["refresh_token"]) == {}
    assert world.openid.introspect(tokens["access_token"])["active"] is False


def test_token_with_totp_and_wrong_password(world):
    code = pyotp.TOTP(world.otp_secret).now()
    assert world.openid.token("testuser-usa-3", PASSWORD, totp=code)["access_token"]
    with pytest.raises(KeycloakAuthenticationError):
        world.openid.token("testuser-usa-1", "Wrong-password-1!")


def test_client_credentials_on_the_backend_client(world):
    tokens = world.backend.token(grant_type="client_credentials")
    assert "refresh_token" not in tokens


def test_refresh_token_is_single_use(world):
    tokens = world.openid.token("testuser-usa-1", PASSWORD)
    assert world.openid.refresh_token(tokens["refresh_token"])["access_token"]
    with pytest.raises(Exception) as err:
        world.openid.refresh_token(tokens["refresh_token"])
    assert "Maximum allowed refresh token reuse exceeded" in str(err.value)


def test_auth_url_through_the_login_form_then_code_exchange(world):
    verifier = pyotp.random_base32(64)
    url = world.openid.auth_url(redirect_uri=REDIRECT, scope="openid", state="s1")
    url += f"&code_challenge={create_s256_code_challenge(verifier)}&code_challenge_method=S256"
    with httpx.Client(verify=ssl.create_default_context(cafile=world.ca_bundle)) as browser:
        page = browser.get(url)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = browser.post(world.url + action, data={"csrf": csrf, "username": "testuser-usa-1", "password": PASSWORD})
    assert done.status_code == 302, done.text
    code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
    tokens = world.openid.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                code_verifier=verifier)  # fmt: skip
    assert world.openid.decode_token(tokens["id_token"], validate=True)["typ"] == "ID"


def test_admin_realms(world):
    assert {r["realm"] for r in world.admin.get_realms()} >= {"master", REALM}
    assert world.admin.get_realm(REALM)["accessTokenLifespan"] == 900
    world.admin.create_realm({"realm": REALM}, skip_exists=True)
    world.admin.create_realm({"realm": "scratch", "enabled": True})
    world.admin.update_realm("scratch", {"displayName": "Scratch"})
    assert world.admin.get_realm("scratch")["displayName"] == "Scratch"
    world.admin.delete_realm("scratch")
    assert "scratch" not in {r["realm"] for r in world.admin.get_realms()}


def test_admin_users_paginate_and_search_exactly(world):
    for i in range(105):
        world.admin.create_user({"username": f"bulk-{i:03d}", "enabled": True})
    users = world.admin.get_users()
    assert len(users) == 105 + 2
    assert world.admin.users_count() == 107
    exact = world.admin.get_users({"username": "bulk-001", "exact": True})
    assert [u["username"] for u in exact] == ["bulk-001"]
    user_id = world.admin.get_user_id("bulk-002")
    assert world.admin.get_user(user_id)["username"] == "bulk-002"
    assert world.admin.create_user({"username": "bulk-002"}, exist_ok=True) == user_id
    world.admin.update_user(user_id, {"firstName": "Bulk"})
    assert world.admin.get_user(user_id)["firstName"] == "Bulk"
    world.admin.set_user_password(user_id, "Another-pass-123!", temporary=False)
    with pytest.raises(KeycloakPutError):
        world.admin.set_user_password(user_id, "short", temporary=False)
    world.admin.delete_user(user_id)
    assert world.admin.get_user_id("bulk-002") is None


def test_admin_clients_and_secrets(world):
    client_id = world.admin.get_client_id(REALM)
    assert world.admin.get_client(client_id)["clientId"] == REALM
    assert world.admin.create_client({"clientId": REALM}, skip_exists=True) == client_id
    new_id = world.admin.create_client({"clientId": "scratch-client"})
    world.admin.update_client(new_id, {"clientId": "scratch-client", "name": "Scratch"})
    assert world.admin.get_client(new_id)["name"] == "Scratch"
    old = world.admin.get_client_secrets(new_id)["value"]
    assert world.admin.generate_client_secrets(new_id)["value"] != old
    assert any(c["clientId"] == "scratch-client" for c in world.admin.get_clients())


def test_admin_identity_providers_and_mappers(world):
    base = "https://localhost:8453/realms/dive-v3-broker-fra/protocol/openid-connect"
    idp = {"alias": "fra-idp", "displayName": "France", "providerId": "oidc", "enabled": True,
           "config": {"authorizationUrl": f"{base}/auth", "tokenUrl": f"{base}/token", "jwksUrl": f"{base}/certs",
                      "issuer": "https://localhost:8453/realms/dive-v3-broker-fra", "clientId": REALM,
                      "clientSecret": "s3cret-" + "c" * 30, "clientAuthMethod": "client_secret_post",
                      "defaultScope": "openid profile email", "validateSignature": "true", "useJwksUrl": "true",
                      "dive.expectedCountry": "FRA"}}  # fmt: skip
    world.admin.create_idp(idp)
    with pytest.raises(KeycloakPostError) as err:
        world.admin.create_idp(idp)
    assert err.value.response_code == 409
    assert world.admin.get_idp("fra-idp")["config"]["clientSecret"] == "**********"
    world.admin.update_idp("fra-idp", {**world.admin.get_idp("fra-idp"), "displayName": "République française"})
    assert world.admin.get_idp("fra-idp")["displayName"] == "République française"
    mapper = {"name": "clearance", "identityProviderAlias": "fra-idp",
              "identityProviderMapper": "oidc-user-attribute-idp-mapper",
              "config": {"claim": "clearance", "user.attribute": "clearance", "syncMode": "FORCE"}}  # fmt: skip
    world.admin.add_mapper_to_idp("fra-idp", mapper)
    stored = world.admin.get_idp_mappers("fra-idp")
    assert [m["name"] for m in stored] == ["clearance"]
    world.admin.update_mapper_in_idp("fra-idp", stored[0]["id"], {**stored[0], "name": "clearance-2"})
    assert world.admin.get_idp_mappers("fra-idp")[0]["name"] == "clearance-2"
    assert [i["alias"] for i in world.admin.get_idps()] == ["fra-idp"]
    world.admin.delete_idp("fra-idp")
    assert world.admin.get_idps() == []


def test_admin_roles(world):
    world.admin.create_realm_role({"name": "dive-admin"})
    assert world.admin.get_realm_role("dive-admin")["name"] == "dive-admin"
    user_id = world.admin.get_user_id("testuser-usa-1")
    world.admin.assign_realm_roles(user_id, [world.admin.get_realm_role("dive-admin")])
    names = {r["name"] for r in world.admin.get_realm_roles_of_user(user_id)}
    assert names == {"dive-user", "dive-admin"}
    assert {r["name"] for r in world.admin.get_realm_roles()} >= {"dive-user", "dive-admin"}


def test_admin_caches_and_events(world):
    world.admin.clear_realm_cache()
    world.admin.clear_keys_cache()
    events = world.admin.get_events({"type": "LOGIN"})
    assert events and all(e["type"] == "LOGIN" for e in events)
