"""Refresh rotation and reuse (§A.3), session timeouts, userinfo, introspection (RFC 7662), revocation
(RFC 7009), logout (§A.5.5) and key rotation (§A.2)."""

from __future__ import annotations

from idp_support import (
    BACKEND_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    REALM,
    TOKEN_URL,
    browser_login,
    csrf_of,
    form_action,
    pkce_pair,
    redeem,
)
from joserfc import jwt
from joserfc.jwk import KeySet

OIDC = f"/realms/{REALM}/protocol/openid-connect"


def _refresh(idp, refresh_token):
    return idp.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                           auth=(CLIENT_ID, CLIENT_SECRET))  # fmt: skip


def _introspect(idp, token):
    return idp.client.post(f"{OIDC}/token/introspect", data={"token": token}, auth=(CLIENT_ID, CLIENT_SECRET)).json()


def test_refresh_rotates_and_the_old_refresh_token_is_single_use(idp):
    first = idp.password_grant("testuser-usa-1").json()
    second = _refresh(idp, first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["session_state"] == first["session_state"]


def test_refresh_token_reuse_ends_the_whole_session(idp):
    first = idp.password_grant("testuser-usa-1").json()
    second = _refresh(idp, first["refresh_token"]).json()
    reuse = _refresh(idp, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error_description"] == "Maximum allowed refresh token reuse exceeded"
    later = _refresh(idp, second["refresh_token"])
    assert later.json() == {"error": "invalid_grant", "error_description": "Session not active"}
    assert _introspect(idp, second["access_token"]) == {"active": False}


def test_idle_timeout_ends_the_session_and_refresh_extends_it(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    assert tokens["refresh_expires_in"] == 900
    idp.clock.advance(800)
    tokens = _refresh(idp, tokens["refresh_token"]).json()
    idp.clock.advance(800)
    assert _refresh(idp, tokens["refresh_token"]).status_code == 200
    stale = idp.password_grant("testuser-usa-1").json()
    idp.clock.advance(901)
    assert _refresh(idp, stale["refresh_token"]).json()["error_description"] == "Token is not active"


def test_sso_max_lifespan_caps_refresh(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    for _ in range(36):  # 36 × 800 s > 8 h
        idp.clock.advance(800)
        response = _refresh(idp, tokens["refresh_token"])
        if response.status_code != 200:
            break
        tokens = response.json()
        assert tokens["refresh_expires_in"] <= 900
    assert response.status_code == 400


def test_userinfo_returns_claims_without_aud_and_rejects_bad_tokens(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    response = idp.client.get(f"{OIDC}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200
    body = response.json()
    assert body["preferred_username"] == "testuser-usa-1" and "aud" not in body and "exp" not in body
    bad = idp.client.get(f"{OIDC}/userinfo", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_userinfo_refuses_an_id_token_as_bearer(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    response = idp.client.get(f"{OIDC}/userinfo", headers={"Authorization": f"Bearer {tokens['id_token']}"})
    assert response.status_code == 401


def test_introspection_is_active_then_inactive_after_backchannel_logout(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    active = _introspect(idp, tokens["access_token"])
    assert active["active"] is True and active["username"] == "testuser-usa-1" and active["client_id"] == CLIENT_ID
    logout = idp.client.post(f"{OIDC}/logout", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                                     "refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert logout.status_code == 204
    assert _introspect(idp, tokens["access_token"]) == {"active": False}


def test_introspection_by_a_public_or_unknown_client_is_invalid_client(idp):
    response = idp.client.post(f"{OIDC}/token/introspect", data={"token": "x", "client_id": "nobody"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_revoking_an_access_token_deactivates_it_and_answers_200(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    response = idp.client.post(f"{OIDC}/revoke", data={"token": tokens["access_token"]},
                               auth=(CLIENT_ID, CLIENT_SECRET))  # fmt: skip
    assert response.status_code == 200
    assert _introspect(idp, tokens["access_token"]) == {"active": False}
    garbage = idp.client.post(f"{OIDC}/revoke", data={"token": "garbage"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert garbage.status_code == 200


def test_logout_with_id_token_hint_ends_the_session_and_redirects_with_state(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    tokens = redeem(idp, params["code"], verifier).json()
    response = idp.client.get(f"{OIDC}/logout", params={"id_token_hint": tokens["id_token"],
                                                        "post_logout_redirect_uri": "https://localhost:3000/",
                                                        "state": "bye"})  # fmt: skip
    assert response.status_code == 302 and response.headers["location"] == "https://localhost:3000/?state=bye"
    assert _introspect(idp, tokens["access_token"]) == {"active": False}


def test_logout_without_hint_on_get_only_shows_a_confirmation(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    page = idp.client.get(f"{OIDC}/logout")
    assert page.status_code == 200 and "Do you want to sign out?" in page.text
    assert _introspect(idp, tokens["access_token"])["active"] is True


def test_logout_with_unregistered_post_logout_uri_is_an_error_page(idp):
    tokens = idp.password_grant("testuser-usa-1").json()
    params = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"}
    response = idp.client.get(f"{OIDC}/logout", params=params)
    assert response.status_code == 400 and "location" not in response.headers


def test_key_rotation_keeps_old_tokens_verifiable_and_publishes_both_keys(idp):
    old = idp.password_grant("testuser-usa-1").json()
    realm = idp.core.directory.realm(REALM)
    new_key = idp.core.keys.ensure(realm, idp.core.now(), force=True)
    jwks = idp.client.get(f"{OIDC}/certs").json()
    assert len(jwks["keys"]) == 2 and jwks["keys"][0]["kid"] == new_key.kid
    assert _introspect(idp, old["access_token"])["active"] is True
    fresh = idp.password_grant("testuser-usa-1").json()
    header = jwt.decode(fresh["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"]).header
    assert header["kid"] == new_key.kid
    assert _refresh(idp, old["refresh_token"]).status_code == 200  # HS512 secret of the passive key still verifies
    idp.clock.advance(25 * 3600)
    idp.core.keys.ensure(realm, idp.core.now())
    assert len(idp.client.get(f"{OIDC}/certs").json()["keys"]) == 1


def test_backend_client_credentials_token_is_introspectable(idp):
    token = idp.client.post(TOKEN_URL, data={"grant_type": "client_credentials"},
                            auth=("dive-v3-backend-client", BACKEND_SECRET)).json()["access_token"]  # fmt: skip
    assert _introspect(idp, token)["active"] is True


def test_logout_confirmation_post_with_its_csrf_token_ends_the_browser_session(idp):
    verifier, challenge = pkce_pair()
    tokens = redeem(idp, browser_login(idp, "testuser-usa-1", challenge)["code"], verifier).json()
    forged = idp.client.post(f"{OIDC}/logout", data={"csrf": "forged"})
    assert "Do you want to sign out?" in forged.text
    assert _introspect(idp, tokens["access_token"])["active"] is True
    page = idp.client.get(f"{OIDC}/logout")
    done = idp.client.post(form_action(page), data={"csrf": csrf_of(page)})
    assert done.status_code == 200 and "You are signed out." in done.text
    assert _introspect(idp, tokens["access_token"]) == {"active": False}
