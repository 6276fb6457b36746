"""Bad input at a real idp (§A.4, §A.9): schemathesis over the admin API never gets a 5xx, malformed token
requests get RFC 6749 §5.2 error bodies, and repeated failures lock the account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from fuzzing import fuzz_openapi

FUZZ_REALM = "fuzz-realm"  # the fuzzer may rewrite anything here
REALM = "bad-input-realm"  # the hand-written cases below own this one
PASSWORD = "Fuzz-user-pass-123!"
CLIENT_SECRET = "fuzz-secret-" + "f" * 32
PARTNER = "https://localhost:8453/realms/dive-v3-broker-fra/protocol/openid-connect"
MASTER_TOKEN = "/realms/master/protocol/openid-connect/token"
TOKEN = f"/realms/{REALM}/protocol/openid-connect/token"


@dataclass(frozen=True)
class Seeded:
    client: httpx.Client
    admin_headers: dict[str, str]
    user_ids: dict[str, str]  # realm name → the seeded user's id
    client_row_ids: dict[str, str]


def _admin_token(client: httpx.Client, password: str) -> str:
    form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": password}
    response = client.post(MASTER_TOKEN, data=form)
    response.raise_for_status()
    return str(response.json()["access_token"])


def _create(client: httpx.Client, path: str, body: object, headers: dict[str, str]) -> str:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def _seed_realm(client: httpx.Client, realm: str, headers: dict[str, str]) -> tuple[str, str]:
    """A realm with one user, one confidential client and one IdP; returns (user id, client row id)."""
    base = f"/admin/realms/{realm}"
    _create(client, "/admin/realms", {"realm": realm, "enabled": True}, headers)
    user_id = _create(client, f"{base}/users", {"username": "fuzz-user", "enabled": True,
                                                "credentials": [{"type": "password", "value": PASSWORD}]},
                      headers)  # fmt: skip
    row_id = _create(client, f"{base}/clients", {"clientId": "fuzz-client", "secret": CLIENT_SECRET,
                                                 "directAccessGrantsEnabled": True}, headers)  # fmt: skip
    _create(client, f"{base}/identity-provider/instances", {
        "alias": "fra-idp", "providerId": "oidc", "enabled": True,
        "config": {"authorizationUrl": f"{PARTNER}/auth", "tokenUrl": f"{PARTNER}/token",
                   "jwksUrl": f"{PARTNER}/certs", "issuer": "https://localhost:8453/realms/dive-v3-broker-fra",
                   "clientId": realm, "clientSecret": "s3cret-" + "c" * 30, "defaultScope": "openid",
                   "validateSignature": "true", "useJwksUrl": "true"}}, headers)  # fmt: skip
    return user_id, row_id


@pytest.fixture(scope="module")
def seeded(running_idp) -> Iterator[Seeded]:
    with running_idp.process.client(timeout=10) as client:
        headers = {"Authorization": f"Bearer {_admin_token(client, running_idp.admin_password)}"}
        ids = {realm: _seed_realm(client, realm, headers) for realm in (FUZZ_REALM, REALM)}
        yield Seeded(client, headers, {r: i[0] for r, i in ids.items()}, {r: i[1] for r, i in ids.items()})


@pytest.mark.slow
def test_schemathesis_over_the_admin_api_finds_no_server_error(running_idp, seeded):
    admin = "/admin/realms/{realm}"
    fuzzed = fuzz_openapi(
        running_idp.process,
        headers=seeded.admin_headers,
        negative=True,
        path_parameters={
            "realm": FUZZ_REALM,
            "user_id": seeded.user_ids[FUZZ_REALM],
            "row_id": seeded.client_row_ids[FUZZ_REALM],
            "alias": "fra-idp",
        },
        # Deleting the pinned realm, user, client or IdP would turn every later operation into a plain 404.
        skip_paths=[
            f"DELETE {admin}",
            f"DELETE {admin}/users/{{user_id}}",
            f"DELETE {admin}/clients/{{row_id}}",
            f"DELETE {admin}/identity-provider/instances/{{alias}}",
        ],
    )
    assert {"POST /admin/realms", f"PUT {admin}/users/{{user_id}}", f"POST {admin}/clients"} <= set(fuzzed)
    assert running_idp.process.process.poll() is None


def test_admin_api_without_a_bearer_token_is_401(seeded):
    response = seeded.client.get(f"/admin/realms/{REALM}/users")
    assert response.status_code == 401
    assert response.json() == {"error": "HTTP 401 Unauthorized"}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "no_such_grant", "client_id": "fuzz-client", "client_secret": CLIENT_SECRET},
         "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "client_id": "fuzz-client", "client_secret": CLIENT_SECRET,
          "code": "not-a-code", "redirect_uri": "https://localhost/cb"}, "invalid_grant"),
        ({"grant_type": "password", "client_id": "fuzz-client", "client_secret": "wrong"}, "invalid_client"),
    ],
)  # fmt: skip
def test_malformed_token_requests_get_rfc6749_error_bodies(seeded, form, error):
    response = seeded.client.post(TOKEN, data=form)
    assert 400 <= response.status_code < 500
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_five_failed_passwords_lock_the_account_even_for_the_right_password(seeded):
    form = {"grant_type": "password", "client_id": "fuzz-client", "client_secret": CLIENT_SECRET,
            "username": "fuzz-user", "password": "Wrong-pass-123!"}  # fmt: skip
    for _ in range(5):
        assert seeded.client.post(TOKEN, data=form).json()["error"] == "invalid_grant"
    locked = seeded.client.post(TOKEN, data={**form, "password": PASSWORD})
    assert locked.status_code == 401
    assert locked.json() == {"error": "invalid_grant", "error_description": "Invalid user credentials"}
    status = seeded.client.get(f"/admin/realms/{REALM}/attack-detection/brute-force/users/{seeded.user_ids[REALM]}",
                               headers=seeded.admin_headers)  # fmt: skip
    assert status.json()["disabled"] is True and status.json()["numFailures"] >= 5
