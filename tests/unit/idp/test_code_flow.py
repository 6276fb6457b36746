"""Authorization code flow with PKCE (RFC 7636), nonce/at_hash, replay and redirect rules (§A.3, §A.5.2, §A.12)."""

from __future__ import annotations

import re

import pyotp
from idp_support import (
    PASSWORD,
    REALM,
    authorize,
    browser_login,
    csrf_of,
    form_action,
    pkce_pair,
    redeem,
    redirect_params,
)
from joserfc import jwt
from joserfc.jwk import KeySet

from dive.idp.administration import set_password
from dive.idp.tokens import at_hash


def _jwks(idp):
    return KeySet.import_key_set(idp.client.get(f"/realms/{REALM}/protocol/openid-connect/certs").json())


def test_code_flow_with_pkce_returns_id_token_with_nonce_and_at_hash(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    assert params["state"] == "st-1"
    response = redeem(idp, params["code"], verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    id_claims = jwt.decode(body["id_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert id_claims["nonce"] == "n-1" and id_claims["at_hash"] == at_hash(body["access_token"])
    assert id_claims["aud"] == "dive-v3-broker-usa" and id_claims["typ"] == "ID"
    assert id_claims["acr"] == "1" and id_claims["amr"] == ["pwd"]


def test_totp_user_in_the_browser_gets_acr_2(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-3", challenge)
    body = redeem(idp, params["code"], verifier).json()
    claims = jwt.decode(body["access_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"]


def test_wrong_pkce_verifier_is_invalid_grant_and_the_code_is_dead_afterwards(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    wrong, _ = pkce_pair()
    failed = redeem(idp, params["code"], wrong)
    assert failed.status_code == 400 and failed.json()["error"] == "invalid_grant"
    retried = redeem(idp, params["code"], verifier)
    assert retried.status_code == 400 and retried.json() == {
        "error": "invalid_grant",
        "error_description": "Code not valid",
    }


def test_missing_verifier_for_a_challenged_code_is_refused(idp):
    _, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    assert redeem(idp, params["code"], None).json()["error"] == "invalid_grant"


def test_replayed_code_is_refused_and_revokes_the_tokens_of_the_first_redemption(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    first = redeem(idp, params["code"], verifier).json()
    replay = redeem(idp, params["code"], verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    userinfo = idp.client.get(f"/realms/{REALM}/protocol/openid-connect/userinfo",
                              headers={"Authorization": f"Bearer {first['access_token']}"})  # fmt: skip
    assert userinfo.status_code == 401


def test_redirect_uri_different_from_the_auth_request_is_refused_at_the_token_endpoint(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    response = redeem(idp, params["code"], verifier, redirect_uri="https://localhost:3000/other")
    assert response.json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(idp):
    _, challenge = pkce_pair()
    response = authorize(idp, challenge, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and "location" not in response.headers


def test_pkce_client_without_challenge_is_redirected_with_invalid_request(idp):
    response = authorize(idp, None)
    assert response.status_code == 302
    assert "error=invalid_request" in response.headers["location"] and "state=st-1" in response.headers["location"]


def test_plain_pkce_method_is_refused(idp):
    response = authorize(idp, None, code_challenge="a" * 43, code_challenge_method="plain")
    assert "error=invalid_request" in response.headers["location"]


def test_prompt_none_without_session_redirects_login_required(idp):
    _, challenge = pkce_pair()
    response = authorize(idp, challenge, prompt="none")
    assert response.status_code == 302 and "error=login_required" in response.headers["location"]


def test_existing_sso_session_issues_a_code_without_a_form(idp):
    _, challenge = pkce_pair()
    browser_login(idp, "testuser-usa-1", challenge)
    _, challenge2 = pkce_pair()
    silent = authorize(idp, challenge2, prompt="none")
    assert silent.status_code == 302 and "code=" in silent.headers["location"]


def test_acr_values_2_on_a_password_session_steps_up_through_totp_enrolment(idp):
    _, challenge = pkce_pair()
    browser_login(idp, "testuser-usa-1", challenge)
    verifier, challenge2 = pkce_pair()
    page = authorize(idp, challenge2, acr_values="2")
    assert page.status_code == 200 and 'id="totp-secret"' in page.text  # no TOTP yet: enrolment
    assert '<div id="totp-qr"><svg' in page.text  # QR rendered server-side, inline
    secret = re.search(r'id="totp-secret">([^<]+)<', page.text).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).at(idp.clock.now().timestamp())
    done = idp.client.post(form_action(page), data={"csrf": csrf_of(page), "otp": code})
    assert done.status_code == 302, done.text
    body = redeem(idp, redirect_params(done)["code"], verifier).json()
    claims = jwt.decode(body["access_token"], _jwks(idp), algorithms=["RS256"]).claims
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"]


def test_code_expires_after_sixty_seconds(idp):
    verifier, challenge = pkce_pair()
    params = browser_login(idp, "testuser-usa-1", challenge)
    idp.clock.advance(61)
    response = redeem(idp, params["code"], verifier)
    assert response.json() == {"error": "invalid_grant", "error_description": "Code is expired"}


def test_login_form_with_wrong_password_shows_the_generic_error(idp):
    _, challenge = pkce_pair()
    page = authorize(idp, challenge)
    response = idp.client.post(form_action(page), data={"csrf": csrf_of(page), "username": "testuser-usa-1",
                                                        "password": "nope"})  # fmt: skip
    assert response.status_code == 200 and "Invalid username or password." in response.text
    assert (
        response.headers["x-frame-options"] == "DENY"
        and "form-action" not in response.headers["content-security-policy"]
    )


def test_login_form_without_the_csrf_token_is_refused(idp):
    _, challenge = pkce_pair()
    page = authorize(idp, challenge)
    response = idp.client.post(form_action(page), data={"username": "testuser-usa-1", "password": "x"})
    assert response.status_code == 400


def test_user_at_the_otp_threshold_without_totp_is_taken_to_enrolment(idp):
    _, challenge = pkce_pair()
    page = authorize(idp, challenge)
    response = idp.client.post(form_action(page), data={"csrf": csrf_of(page), "username": "testuser-usa-4",
                                                        "password": PASSWORD})  # fmt: skip
    assert response.status_code == 200 and 'id="totp-secret"' in response.text


def test_prompt_login_forces_the_form_despite_a_session(idp):
    _, challenge = pkce_pair()
    browser_login(idp, "testuser-usa-1", challenge)
    _, challenge2 = pkce_pair()
    response = authorize(idp, challenge2, prompt="login")
    assert response.status_code == 200 and 'name="password"' in response.text


def test_max_age_older_than_the_authentication_forces_the_form(idp):
    _, challenge = pkce_pair()
    browser_login(idp, "testuser-usa-1", challenge)
    idp.clock.advance(120)
    _, challenge2 = pkce_pair()
    assert authorize(idp, challenge2, max_age="60").status_code == 200
    _, challenge3 = pkce_pair()
    assert authorize(idp, challenge3, max_age="600").status_code == 302


def test_temporary_password_must_be_replaced_before_the_code_is_issued(idp):
    realm = idp.core.directory.realm(REALM)
    user = idp.core.directory.user_by_username(realm.id, "testuser-usa-1")
    set_password(idp.core, realm, user, "Temporary-pass-123!", temporary=True)
    verifier, challenge = pkce_pair()
    page = authorize(idp, challenge)
    step = idp.client.post(form_action(page), data={"csrf": csrf_of(page), "username": "testuser-usa-1",
                                                    "password": "Temporary-pass-123!"})  # fmt: skip
    assert step.status_code == 200 and 'name="password-new"' in step.text
    mismatch = idp.client.post(form_action(step), data={"csrf": csrf_of(step), "password-new": "Brand-new-pass-1!",
                                                        "password-confirm": "other"})  # fmt: skip
    assert "Passwords don&#39;t match." in mismatch.text
    weak = idp.client.post(form_action(step), data={"csrf": csrf_of(step), "password-new": "weak",
                                                    "password-confirm": "weak"})  # fmt: skip
    assert "Invalid password: minimum length 12." in weak.text
    done = idp.client.post(form_action(step), data={"csrf": csrf_of(step), "password-new": "Brand-new-pass-1!",
                                                    "password-confirm": "Brand-new-pass-1!"})  # fmt: skip
    assert done.status_code == 302
    assert redeem(idp, redirect_params(done)["code"], verifier).status_code == 200
    assert idp.password_grant("testuser-usa-1", password="Brand-new-pass-1!").status_code == 200
