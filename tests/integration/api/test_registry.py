"""Federation and KAS registry routes (identity-api-ui §B.7, §B.10 items 1–2): every mutation needs a credential."""

from __future__ import annotations

import pytest

from .conftest import ApiDeployment

MUTATIONS = [
    ("/api/federation/register", {"instanceCode": "FRA"}),
    ("/api/federation/spokes/FRA/approve", {"trustLevel": "partner"}),
    ("/api/federation/spokes/FRA/suspend", {"reason": "x"}),
    ("/api/federation/spokes/FRA/revoke", {"reason": "x"}),
    ("/api/kas/register", {"kasId": "fra-kas"}),
    ("/api/kas/registry/fra-kas/approve", {}),
    ("/api/kas/registry/fra-kas/suspend", {}),
]


@pytest.mark.parametrize(("path", "body"), MUTATIONS)
def test_a_mutation_without_credentials_answers_401(deployment: ApiDeployment, path: str, body: dict[str, object]):
    with deployment.api.client(timeout=30) as client:
        response = client.post(path, json=body)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


@pytest.mark.parametrize(("path", "body"), MUTATIONS)
def test_a_mutation_with_a_plain_user_token_answers_403(deployment: ApiDeployment, path: str, body: dict[str, object]):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    with deployment.api.client(timeout=30) as client:
        response = client.post(path, json=body, headers=headers)
    assert response.status_code == 403 and response.json()["error"] == "insufficient_role"


def test_an_admin_registers_approves_and_suspends_a_partner(deployment: ApiDeployment):
    admin = deployment.issuer.token(realm_access={"roles": ["dive-user", "dive-admin"]})
    headers = {"Authorization": f"Bearer {admin}"}
    body = {
        "instanceCode": "GBR",
        "name": "United Kingdom",
        "apiUrl": "https://localhost:4031",
        "webUrl": "https://localhost:3031",
        "idpUrl": "https://localhost:8474",
        "issuer": "https://localhost:8474/realms/dive-v3-broker-gbr",
        "kasUrl": "https://localhost:9031/kas",
    }
    with deployment.api.client(timeout=30) as client:
        created = client.post("/api/federation/register", json=body, headers=headers)
        again = client.post("/api/federation/register", json=body, headers=headers)
        approved = client.post("/api/federation/spokes/GBR/approve", json={"trustLevel": "partner"}, headers=headers)
        twice = client.post("/api/federation/spokes/GBR/approve", json={"trustLevel": "partner"}, headers=headers)
        issuers = client.get("/api/federation/trusted-issuers", headers=headers)
        suspended = client.post("/api/federation/spokes/GBR/suspend", json={"reason": "test"}, headers=headers)
    assert (
        created.status_code == 201 and created.json()["spoke"]["status"] == "pending" and created.json()["spokeToken"]
    )
    assert again.status_code == 200 and "spokeToken" not in again.json()
    assert approved.status_code == 200 and approved.json()["spoke"]["status"] == "approved", approved.text
    assert twice.status_code == 409 and twice.json()["error"] == "conflict"
    assert body["issuer"] in [i["issuer"] for i in issuers.json()]
    assert suspended.json()["spoke"]["status"] == "suspended"


def test_audit_lists_the_decisions_for_an_admin(deployment: ApiDeployment):
    user = deployment.issuer.token()
    admin = deployment.issuer.token(realm_access={"roles": ["dive-admin"]})
    with deployment.api.client(timeout=30) as client:
        client.get(f"/api/resources/{deployment.ids[0]}/decision", headers={"Authorization": f"Bearer {user}"})
        forbidden = client.get("/api/audit/decisions", headers={"Authorization": f"Bearer {user}"})
        import time

        deadline = time.monotonic() + 5
        while True:
            listed = client.get(
                "/api/audit/decisions",
                params={"resourceId": deployment.ids[0]},
                headers={"Authorization": f"Bearer {admin}"},
            ).json()
            if listed["items"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert forbidden.status_code == 403
    record = listed["items"][0]
    assert (
        record["labels"] == {"instance": "USA", "service": "api"}
        and record["input"]["action"]["operation"] == "explain"
    )
    assert record["result"]["reason_code"] in ("ok", *record["result"]["checks"])
