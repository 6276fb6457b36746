"""Hostile input against the api (identity-api-ui §B.1.3, §B.10): injection, traversal, oversize, fuzzing."""

from __future__ import annotations

import httpx
import pytest

from fuzzing import fuzz_openapi

from .conftest import ApiDeployment

INJECTIONS = [
    "' OR 1=1 --",
    '"; DROP TABLE resources; --',
    "%",
    "_",
    "\\",
    "NATO%' OR '1'='1",
    "\x00",
    "ü' UNION SELECT",
]


def _client(deployment: ApiDeployment) -> httpx.Client:
    return deployment.api.client(timeout=30)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_in_q_and_filters_list_nothing_extra(deployment: ApiDeployment, value: str):
    token = deployment.issuer.token()
    headers = {"Authorization": f"Bearer {token}"}
    with _client(deployment) as client:
        baseline = client.get("/api/resources", headers=headers, params={"pageSize": "100"}).json()["total"]
        for params in ({"q": value}, {"classification": value}, {"coi": value}, {"releasableTo": value}):
            response = client.get("/api/resources", headers=headers, params=params)
            assert response.status_code in (200, 400), response.text
            if response.status_code == 200:
                assert response.json()["total"] <= baseline
                assert response.json()["total"] == 0 or params.get("q") in ("_", "%", "\\")


@pytest.mark.parametrize("path", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "doc-USA-seed-00001%00", "a" * 300])
def test_path_traversal_in_ids_is_not_found(deployment: ApiDeployment, path: str):
    with _client(deployment) as client:
        response = client.get(
            f"/api/resources/{path}", headers={"Authorization": f"Bearer {deployment.issuer.token()}"}
        )
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_literal_routes_are_not_captured_by_the_id_route(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    with _client(deployment) as client:
        search = client.post("/api/resources/search", headers=headers, json={"filters": {"classification": ["SECRET"]}})
        federated = client.get("/api/resources/federated-search", headers=headers)
    assert search.status_code == 200 and "facets" in search.json()
    assert federated.status_code == 200 and "_clusters" in federated.json()


def test_an_oversize_upload_answers_413(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    files = {"file": ("big.txt", b"a" * 400_000, "text/plain")}
    with _client(deployment) as client:
        response = client.post("/api/resources", headers=headers, files=files, data={"title": "big"})
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def test_an_invalid_label_answers_422_with_every_error(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    data = {"title": "", "classification": "SECRET", "releasabilityTo": ["USA", "NATO"], "caveats": ["BOGUS"]}
    with _client(deployment) as client:
        response = client.post("/api/resources", headers=headers, files={"file": ("a.txt", b"hi")}, data=data)
    body = response.json()
    assert response.status_code == 422 and body["error"] == "validation_failed"
    assert {"title_invalid", "caveat_invalid"} <= {e["code"] for e in body["details"]["errors"]}


def test_a_label_the_policy_rejects_answers_422_with_its_code(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    data = {"title": "t", "classification": "SECRET", "releasabilityTo": ["USA", "NATO"]}
    with _client(deployment) as client:
        response = client.post("/api/resources", headers=headers, files={"file": ("a.txt", b"hi")}, data=data)
    assert response.status_code == 422
    assert "country_code_invalid" in {e["code"] for e in response.json()["details"]["errors"]}


def test_upload_round_trip_encrypts_lists_and_opens(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    data = {"title": "Round trip memo", "classification": "CONFIDENTIAL", "releasabilityTo": ["USA", "GBR"]}
    with _client(deployment) as client:
        created = client.post("/api/resources", headers=headers, files={"file": ("memo.txt", b"round trip")}, data=data)
        assert created.status_code == 201, created.text
        rid = created.json()["resourceId"]
        assert created.headers["location"] == f"/api/resources/{rid}"
        assert created.json()["displayMarking"] == "CONFIDENTIAL//REL USA, GBR"
        content = client.get(f"/api/resources/{rid}/content", headers=headers)
        listed = client.get("/api/resources", headers=headers, params={"q": "round trip"}).json()
    assert content.status_code == 200 and content.content == b"round trip"
    assert rid in [item["resourceId"] for item in listed["items"]]


def test_an_upload_the_policy_denies_answers_403(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    data = {"title": "too high", "classification": "TOP_SECRET", "releasabilityTo": ["USA"]}
    with _client(deployment) as client:
        response = client.post("/api/resources", headers=headers, files={"file": ("a.txt", b"x")}, data=data)
    assert response.status_code == 403 and response.json()["error"] == "access_denied"


def test_the_openapi_surface_never_answers_5xx(deployment: ApiDeployment):
    assert fuzz_openapi(deployment.api, skip_paths=["/api/resources/{resource_id}/content"])
