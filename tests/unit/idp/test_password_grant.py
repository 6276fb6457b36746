"""§A.5.3 password grant, §A.4 brute force, §A.6 claims, against the in-process app."""

from __future__ import annotations

from idp_support import REALM
from joserfc import jwt
from joserfc.jwk import KeySet


def _jwks(idp):
    return KeySet.import_key_set(idp.client.get(f"/realms/{REALM}/protocol/openid-connect/certs").json())


def test_password_grant_issues_keycloak_shaped_tokens_that_verify_against_jwks(idp):
    response = idp.password_grant("testuser-usa-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert {"access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type", "id_token",
            "not-before-policy", "session_state", "scope"} <= set(body)  # fmt: skip
    assert body["expires_in"] == 900 and body["token_type"] == "Bearer"
    claims = jwt.decode(body["access_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert claims["iss"] == f"https://localhost:8443/realms/{REALM}"
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]
    assert claims["aud"] == ["dive-v3-api", "dive-v3-kas"]
    assert claims["realm_access"] == {"roles": ["dive-user"]}
    assert claims["acpCOI"] == [] and claims["clearance"] == "UNCLASSIFIED"


def test_wrong_password_is_401_invalid_grant_with_keycloak_description(idp):
    response = idp.password_grant("testuser-usa-1", password="Wrong-password-1!")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid user credentials"}


def test_unknown_user_answers_exactly_like_a_wrong_password(idp):
    response = idp.password_grant("nobody-here")
    assert response.status_code == 401
    assert response.json()["error_description"] == "Invalid user credentials"


def test_user_with_totp_needs_the_code_and_gets_acr_2(idp):
    assert idp.password_grant("testuser-usa-3").status_code == 401
    response = idp.password_grant("testuser-usa-3", totp=idp.totp())
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"]
    assert claims["acpCOI"] == ["NATO"] and claims["organizationType"] == "GOV"


def test_replayed_totp_code_is_refused(idp):
    code = idp.totp()
    assert idp.password_grant("testuser-usa-3", totp=code).status_code == 200
    assert idp.password_grant("testuser-usa-3", totp=code).status_code == 401


def test_user_above_the_otp_threshold_without_totp_cannot_use_the_password_grant(idp):
    response = idp.password_grant("testuser-usa-4")
    assert response.status_code == 400
    assert response.json()["error_description"] == "Account is not fully set up"


def test_five_failures_lock_the_account_even_for_the_right_password(idp):
    for _ in range(5):
        assert idp.password_grant("testuser-usa-1", password="Wrong-password-1!").status_code == 401
    locked = idp.password_grant("testuser-usa-1")
    assert locked.status_code == 401 and locked.json()["error_description"] == "Invalid user credentials"
    idp.clock.advance(61)
    assert idp.password_grant("testuser-usa-1").status_code == 200


def test_client_without_direct_access_grants_is_unauthorized_client(idp):
    from idp_support import BACKEND_SECRET

    response = idp.client.post(
        f"/realms/{REALM}/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "dive-v3-backend-client", "client_secret": BACKEND_SECRET,
              "username": "testuser-usa-1", "password": "x"},
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def test_wrong_client_secret_with_basic_auth_is_401_with_basic_challenge(idp):
    response = idp.client.post(
        f"/realms/{REALM}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("dive-v3-backend-client", "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"] == "Basic"


def test_client_credentials_issue_an_access_token_without_refresh_or_id_token(idp):
    from idp_support import BACKEND_SECRET

    response = idp.client.post(
        f"/realms/{REALM}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("dive-v3-backend-client", BACKEND_SECRET),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body and body["expires_in"] == 300
    claims = jwt.decode(body["access_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert claims["preferred_username"] == "service-account-dive-v3-backend-client"


def test_unsupported_grant_type_is_rfc6749_error(idp):
    response = idp.client.post(f"/realms/{REALM}/protocol/openid-connect/token", data={"grant_type": "implicit"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
