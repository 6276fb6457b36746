"""Admin REST API error semantics and shapes that python-keycloak depends on (§A.9)."""

from __future__ import annotations

import pytest
from idp_support import ADMIN_PASSWORD, REALM
from sqlalchemy import text

from dive.store.engine import create_engine_for

ADMIN = f"/admin/realms/{REALM}"


@pytest.fixture
def admin_headers(idp):
    token = idp.client.post("/realms/master/protocol/openid-connect/token",
                            data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                  "password": ADMIN_PASSWORD}).json()["access_token"]  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


def test_admin_token_lives_300_seconds(idp):
    body = idp.client.post("/realms/master/protocol/openid-connect/token",
                           data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                 "password": ADMIN_PASSWORD}).json()  # fmt: skip
    assert body["expires_in"] == 300


def test_missing_token_is_401_and_a_user_token_without_admin_role_is_403(idp):
    assert idp.client.get("/admin/realms").json() == {"error": "HTTP 401 Unauthorized"}
    user = idp.password_grant("testuser-usa-1").json()["access_token"]
    response = idp.client.get("/admin/realms", headers={"Authorization": f"Bearer {user}"})
    assert response.status_code == 401  # a token of another realm is not an admin token
    assert idp.client.get("/admin/realms", headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_duplicate_realm_answers_the_literal_conflict_body(idp, admin_headers):
    response = idp.client.post("/admin/realms", json={"realm": REALM}, headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"errorMessage": "Conflict detected. See logs for details"}


def test_create_user_answers_201_with_location_and_empty_body(idp, admin_headers):
    response = idp.client.post(f"{ADMIN}/users", json={"username": "New-User"}, headers=admin_headers)
    assert response.status_code == 201 and response.content == b""
    user_id = response.headers["location"].rsplit("/", 1)[1]
    user = idp.client.get(f"{ADMIN}/users/{user_id}", headers=admin_headers).json()
    assert user["username"] == "new-user" and user["attributes"] == {}
    duplicate = idp.client.post(f"{ADMIN}/users", json={"username": "new-user"}, headers=admin_headers)
    assert duplicate.status_code == 409 and "errorMessage" in duplicate.json()


def test_user_search_is_substring_unless_exact_and_pages_with_first_and_max(idp, admin_headers):
    found = idp.client.get(f"{ADMIN}/users", params={"search": "USA"}, headers=admin_headers).json()
    assert [u["username"] for u in found] == ["testuser-usa-1", "testuser-usa-3", "testuser-usa-4"]
    exact = idp.client.get(f"{ADMIN}/users", params={"username": "testuser-usa", "exact": "True"},
                           headers=admin_headers).json()  # fmt: skip
    assert exact == []
    page = idp.client.get(f"{ADMIN}/users", params={"first": 1, "max": 1}, headers=admin_headers).json()
    assert [u["username"] for u in page] == ["testuser-usa-3"]
    brief = idp.client.get(f"{ADMIN}/users", params={"briefRepresentation": "true"}, headers=admin_headers).json()
    assert all("attributes" not in u for u in brief)
    by_attribute = idp.client.get(f"{ADMIN}/users", params={"q": "clearance:SECRET"}, headers=admin_headers).json()
    assert [u["username"] for u in by_attribute] == ["testuser-usa-4"]
    assert idp.client.get(f"{ADMIN}/users/count", headers=admin_headers).json() == 3


def test_unknown_fields_round_trip_through_get_and_put(idp, admin_headers):
    user_id = idp.client.get(f"{ADMIN}/users", params={"username": "testuser-usa-1", "exact": "true"},
                             headers=admin_headers).json()[0]["id"]  # fmt: skip
    rep = idp.client.get(f"{ADMIN}/users/{user_id}", headers=admin_headers).json()
    rep["futureField"] = {"kept": True}
    assert idp.client.put(f"{ADMIN}/users/{user_id}", json=rep, headers=admin_headers).status_code == 204
    again = idp.client.get(f"{ADMIN}/users/{user_id}", headers=admin_headers).json()
    assert again["futureField"] == {"kept": True} and again["attributes"]["clearance"] == ["UNCLASSIFIED"]


def test_password_policy_violation_has_the_keycloak_shape(idp, admin_headers):
    user_id = idp.client.get(f"{ADMIN}/users", params={"username": "testuser-usa-1", "exact": "true"},
                             headers=admin_headers).json()[0]["id"]  # fmt: skip
    response = idp.client.put(f"{ADMIN}/users/{user_id}/reset-password",
                              json={"type": "password", "value": "Sh0rt!", "temporary": False},
                              headers=admin_headers)  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"error": "invalidPasswordMinLengthMessage",
                               "error_description": "Invalid password: minimum length 12."}  # fmt: skip


def test_unknown_objects_are_404(idp, admin_headers):
    assert idp.client.get("/admin/realms/nope", headers=admin_headers).status_code == 404
    assert idp.client.get(f"{ADMIN}/users/nope", headers=admin_headers).status_code == 404
    assert idp.client.get(f"{ADMIN}/clients/nope", headers=admin_headers).status_code == 404
    assert idp.client.get(f"{ADMIN}/identity-provider/instances/nope", headers=admin_headers).status_code == 404
    assert idp.client.get(f"{ADMIN}/roles/nope", headers=admin_headers).status_code == 404


def test_client_lookup_by_client_id_is_exact_and_the_secret_is_encrypted_at_rest(idp, admin_headers):
    found = idp.client.get(f"{ADMIN}/clients", params={"clientId": "dive-v3-broker"}, headers=admin_headers).json()
    assert found == []
    client = idp.client.get(f"{ADMIN}/clients", params={"clientId": REALM}, headers=admin_headers).json()[0]
    secret = idp.client.get(f"{ADMIN}/clients/{client['id']}/client-secret", headers=admin_headers).json()
    engine = create_engine_for(idp.core.settings.service.database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT secret_sealed FROM idp_clients WHERE id = :id"),
                                        {"id": client["id"]}).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    assert secret["value"] == "app-client-secret-" + "x" * 24 and secret["value"] not in stored


def test_invalid_identity_provider_configuration_is_400(idp, admin_headers):
    rep = {"alias": "fra-idp", "providerId": "oidc", "config": {"validateSignature": "false"}}
    response = idp.client.post(f"{ADMIN}/identity-provider/instances", json=rep, headers=admin_headers)
    assert response.status_code == 400 and "errorMessage" in response.json()


def test_rotate_keys_returns_the_new_kid_and_keys_metadata_shows_it_active(idp, admin_headers):
    kid = idp.client.post(f"{ADMIN}/dive/rotate-keys", headers=admin_headers).json()["kid"]
    keys = idp.client.get(f"{ADMIN}/keys", headers=admin_headers).json()
    assert keys["active"] == {"RS256": kid}
    assert {k["status"] for k in keys["keys"]} == {"ACTIVE", "PASSIVE"}


def test_brute_force_status_and_reset(idp, admin_headers):
    for _ in range(5):
        idp.password_grant("testuser-usa-1", password="Wrong-password-1!")
    user_id = idp.client.get(f"{ADMIN}/users", params={"username": "testuser-usa-1", "exact": "true"},
                             headers=admin_headers).json()[0]["id"]  # fmt: skip
    url = f"{ADMIN}/attack-detection/brute-force/users/{user_id}"
    status = idp.client.get(url, headers=admin_headers).json()
    assert status["numFailures"] == 5 and status["disabled"] is True
    assert idp.client.delete(url, headers=admin_headers).status_code == 204
    assert idp.password_grant("testuser-usa-1").status_code == 200


def test_events_record_logins_without_secrets(idp, admin_headers):
    idp.password_grant("testuser-usa-1")
    idp.password_grant("testuser-usa-1", password="Wrong-password-1!")
    events = idp.client.get(f"{ADMIN}/events", headers=admin_headers).json()
    types = [e["type"] for e in events]
    assert "LOGIN" in types and "LOGIN_ERROR" in types
    assert "Wrong-password-1!" not in str(events)
