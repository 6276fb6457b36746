"""An unmodified authlib OAuth 2.0 client runs the code flow with PKCE S256 and a nonce against a real idp;
the ID token is validated against the published JWKS (RFC 7636, OIDC Core §3.1.3.7)."""

from __future__ import annotations

import re
import secrets
import ssl
import warnings
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

with warnings.catch_warnings():  # authlib's httpx integration warns at import that httpx2 exists; we use httpx
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

REALM = "authlib-realm"
SECRET = "authlib-secret-" + "z" * 30
REDIRECT = "https://localhost:3000/auth/callback"
PASSWORD = "Test-user-pass-123!"


def _setup(base: str, ca: ssl.SSLContext, admin_password: str) -> None:
    with httpx.Client(verify=ca, base_url=base) as http:
        token = http.post("/realms/master/protocol/openid-connect/token",
                          data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                "password": admin_password}).json()["access_token"]  # fmt: skip
        realm = {"realm": REALM, "enabled": True,
                 "clients": [{"clientId": "rp", "secret": SECRET, "redirectUris": [REDIRECT],
                              "attributes": {"pkce.code.challenge.method": "S256"}}],
                 "users": [{"username": "alice", "email": "alice@example.mil",
                            "attributes": {"clearance": ["UNCLASSIFIED"], "countryOfAffiliation": ["USA"]},
                            "credentials": [{"type": "password", "value": PASSWORD}]}]}  # fmt: skip
        response = http.post("/admin/realms", json=realm, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text


def test_authlib_code_flow_with_pkce_and_nonce_validates_the_id_token(running_idp):
    ca = ssl.create_default_context(cafile=running_idp.ca_bundle)
    _setup(running_idp.url, ca, running_idp.admin_password)
    issuer = f"{running_idp.url}/realms/{REALM}"
    with httpx.Client(verify=ca) as http:
        metadata = http.get(f"{issuer}/.well-known/openid-configuration").json()
    verifier, nonce = generate_token(64), secrets.token_urlsafe(16)
    with OAuth2Client("rp", SECRET, scope="openid", redirect_uri=REDIRECT, code_challenge_method="S256",
                      verify=ca) as client:  # fmt: skip
        url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                     nonce=nonce)  # fmt: skip
        with httpx.Client(verify=ca) as browser:
            page = browser.get(url)
            action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            done = browser.post(running_idp.url + action, data={"csrf": csrf, "username": "alice",
                                                                "password": PASSWORD})  # fmt: skip
        callback = done.headers["location"]
        assert urlsplit(callback).path == "/auth/callback"
        token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state,
                                   code_verifier=verifier)  # fmt: skip
    with httpx.Client(verify=ca) as http:
        jwks = KeySet.import_key_set(http.get(metadata["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": "rp"},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(decoded.claims)
    assert decoded.claims["email"] == "alice@example.mil" and decoded.claims["acr"] == "1"
