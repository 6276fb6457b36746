"""The api over HTTPS with a real KAS (identity-api-ui §B.2–§B.5): authentication, listing, opening, upload."""

from __future__ import annotations

import time

import httpx
import pytest

from dive.seed.documents import seed_label

from .conftest import ApiDeployment
from .deployment import AS_OF
from .issuer import sign


def _get(deployment: ApiDeployment, path: str, token: str | None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with deployment.api.client(timeout=30) as client:
        return client.get(path, headers=headers, **kwargs)  # type: ignore[arg-type]


def _all_ids(deployment: ApiDeployment, token: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params = {"pageSize": "100", **({"cursor": cursor} if cursor else {})}
        body = _get(deployment, "/api/resources", token, params=params).json()
        ids += [item["resourceId"] for item in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            return ids


def test_list_returns_exactly_the_documents_the_engine_allows(deployment: ApiDeployment):
    token = deployment.issuer.token()
    listed = [rid for rid in _all_ids(deployment, token) if rid in deployment.ids]  # uploads of other tests aside
    allowed = [
        rid
        for rid in deployment.ids
        if _get(deployment, f"/api/resources/{rid}/decision", token).json()["decision"]["allow"]
    ]
    assert sorted(listed) == sorted(allowed)
    assert 0 < len(listed) < len(deployment.ids)


def test_open_an_allowed_secret_document_returns_its_plaintext(deployment: ApiDeployment):
    token = deployment.issuer.token(clearance="TOP SECRET", acpCOI=["NATO", "FVEY", "NATO-COSMIC", "US-ONLY"])
    listed = _get(deployment, "/api/resources", token, params={"classification": "SECRET", "pageSize": "5"}).json()
    assert listed["items"], listed
    item = listed["items"][0]
    response = _get(deployment, f"/api/resources/{item['resourceId']}/content", token)
    assert response.status_code == 200, response.text
    index = int(item["resourceId"].rsplit("-", 1)[1])
    assert response.content == seed_label("dive", "USA", index, AS_OF).plaintext
    assert response.headers["cache-control"] == "no-store"


def test_a_denied_document_answers_403_with_reason_and_checklist(deployment: ApiDeployment):
    token = deployment.issuer.token(clearance="UNCLASSIFIED", acpCOI=[], acr="1", amr=["pwd"])
    denied = next(
        rid
        for rid in deployment.ids
        if not _get(deployment, f"/api/resources/{rid}/decision", token).json()["decision"]["allow"]
    )
    response = _get(deployment, f"/api/resources/{denied}", token)
    body = response.json()
    assert response.status_code == 403 and body["error"] == "access_denied"
    decision = body["details"]["decision"]
    assert decision["reason"] == body["message"]
    assert [c["id"] for c in decision["checks"]][:2] == ["authenticated", "required_attributes"]
    assert "title" not in body["details"]["label"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", "missing_token"),
        ("expired", "expired"),
        ("untrusted", "issuer_not_trusted"),
        ("forged", "bad_signature"),
        ("wrong_audience", "audience_mismatch"),
    ],
)
def test_bad_tokens_answer_401_with_the_reason(deployment: ApiDeployment, case: str, reason: str):
    issuer = deployment.issuer
    from cryptography.hazmat.primitives.asymmetric import rsa

    tokens = {
        "missing": lambda: None,
        "expired": lambda: issuer.token(exp=int(time.time()) - 120),
        "untrusted": lambda: issuer.token(iss="https://evil.example/realms/x"),
        "forged": lambda: sign({"iss": issuer.url}, rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "wrong_audience": lambda: issuer.token(aud="dive-v3-kas"),
    }
    hits = len(issuer.jwks_hits)
    response = _get(deployment, "/api/resources", tokens[case]())
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert response.json()["details"]["reason"] == reason
    if case == "untrusted":
        assert len(issuer.jwks_hits) == hits
