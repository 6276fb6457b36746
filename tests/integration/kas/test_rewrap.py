"""The KAS over HTTPS (spec/ztdf-kas.md §7, §8, §15 items 9–15): golden files through a real KAS, security cases."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy import select

from dive.kas.client import KasClient
from dive.kas.key_ring import public_key_pem
from dive.pki import ssl_context_for
from dive.store import create_engine_for, instance_database_url, session_factory
from dive.store.models.audit import DecisionLogEntry
from dive.ztdf import KasTarget, Label, decrypt, open_ztdf, write_ztdf

from .conftest import GOLDEN, KasDeployment, sign

EXPECTED = {
    "small-java-4.3.0-e0f8caf.tdf": "a11937f356a9b0ba592c82f5290bac8016cb33a3f9bc68d3490147c158ebb10d",
    "no-splitids-java.tdf": "a11937f356a9b0ba592c82f5290bac8016cb33a3f9bc68d3490147c158ebb10d",
    "with-json-object-assertions-java.tdf": "982d9e3eb996f559e633f4d194def3761d909f5a3b647d1a851fead67c32c9d1",
    "xstext-java-v0.7.5-94b161d53-DSP2.0.2_and_2.0.3.tdf": (
        "842f232fcad173bf4d36817b39f6f043a5cefff2bbfe417dea3525b89d6e4e52"
    ),
    "xstext-java-v0.7.8-7f487c2-DSP2.0.4.tdf": "e9a17d18dd58c3557ac2faf7c0c2e64ac1213d632a36116c865ba5a60eac1e86",
    "xstext-java-v0.9.0-2de6a49-DSP2.0.5.1_and_2.0.6.tdf": (
        "1f3470c0b14de86d91f1897cd67dc78e5f180645cfd6e3f480f1ba317d842343"
    ),
    "key-management-no-split-golden.tdf": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
}
GOLDEN_URLS = ("http://localhost:8080/kas", "http://localhost:8686")


def _client(kas: KasDeployment, token: str, path: str) -> tuple[httpx.Client, KasClient]:
    http = httpx.Client(verify=ssl_context_for(kas.kas.ca_bundle), timeout=10)
    url_map = {url: f"{kas.kas.url}" for url in GOLDEN_URLS}
    return http, KasClient(http=http, token=token, url_map=url_map, rewrap_path=path, allowed_urls=())


@pytest.mark.parametrize("path", ["/kas/v2/rewrap", "/kas.AccessService/Rewrap"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_file_decrypts_through_the_kas_loaded_with_golden_r1(
    kas_deployment: KasDeployment, name: str, path: str
):
    http, client = _client(kas_deployment, kas_deployment.issuer.token(), path)
    with http, open_ztdf(GOLDEN / name) as container:
        plaintext = decrypt(container, client)
    assert hashlib.sha256(plaintext).hexdigest() == EXPECTED[name]


def _session_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _srt(body: dict[str, Any], key: rsa.RSAPrivateKey, *, iat: int | None = None) -> str:
    now = int(time.time()) if iat is None else iat
    claims = {"requestBody": json.dumps(body), "iat": now}
    return jws.serialize_compact({"alg": "RS256"}, json.dumps(claims), RSAKey.import_key(key))


def _dive_document(kas: KasDeployment, label: Label) -> tuple[dict[str, Any], str]:
    """A DIVE-written document wrapped to the KAS's active key; returns its KAO (as JSON) and policy string."""
    with kas.kas.client() as c:
        public = c.get("/kas/v2/kas_public_key").json()
    sink = io.BytesIO()
    target = KasTarget(url=f"{kas.kas.url}/kas", kid=public["kid"], public_key_pem=public["publicKey"].encode())
    manifest = write_ztdf(b"coalition secret", sink, label=label, kas_targets=[target], resource_id="doc-USA-kas-1")
    kao = manifest.key_access[0]
    kao_json = {
        "type": "wrapped",
        "url": kao.url,
        "protocol": "kas",
        "wrappedKey": kao.wrapped_key,
        "kid": kao.kid,
        "sid": kao.sid,
        "policyBinding": {"alg": "HS256", "hash": kao.binding_hash},
    }
    return kao_json, manifest.policy


def _label(**overrides: Any) -> Label:
    fields: dict[str, Any] = {
        "classification": "SECRET",
        "releasable_to": ("USA", "FRA"),
        "originator_country": "USA",
        "creation_date": "2026-03-01T10:00:00Z",
        "cois": ("NATO",),
    }
    fields.update(overrides)
    return Label(**fields)


def _rewrap_body(key: rsa.RSAPrivateKey, kao: dict[str, Any], policy: str, **extra: Any) -> dict[str, Any]:
    return {
        "clientPublicKey": public_key_pem(key.public_key()),
        "requests": [
            {
                "algorithm": "rsa:2048",
                "policy": {"id": "doc-USA-kas-1", "body": policy},
                "keyAccessObjects": [{"keyAccessObjectId": "kao-0", "keyAccessObject": kao}],
            }
        ],
        **extra,
    }


def _post(kas: KasDeployment, token: str | None, srt: str, path: str = "/kas/v2/rewrap") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with kas.kas.client() as c:
        return c.post(path, json={"signedRequestToken": srt}, headers=headers)


@pytest.fixture(scope="module")
def permitted(kas_deployment: KasDeployment) -> tuple[rsa.RSAPrivateKey, dict[str, Any], str]:
    kao, policy = _dive_document(kas_deployment, _label())
    return _session_key(), kao, policy


def test_rewrap_of_a_releasable_dive_document_permits_and_returns_a_key_for_the_client(kas_deployment, permitted):
    key, kao, policy = permitted
    response = _post(kas_deployment, kas_deployment.issuer.token(), _srt(_rewrap_body(key, kao, policy), key))
    result = response.json()["responses"][0]["results"][0]
    assert response.status_code == 200 and result["status"] == "permit", result
    assert result["metadata"]["kid"] == "golden-r1"


def test_rewrap_for_a_subject_below_the_classification_fails_with_the_policy_reason(kas_deployment, permitted):
    key, kao, policy = permitted
    token = kas_deployment.issuer.token(clearance="CONFIDENTIAL")
    response = _post(kas_deployment, token, _srt(_rewrap_body(key, kao, policy), key))
    result = response.json()["responses"][0]["results"][0]
    assert response.status_code == 200 and result["status"] == "fail"
    assert result["metadata"]["errorCode"] == "policy_denied"
    assert result["metadata"]["checks"]["clearance_sufficient"] is False
    assert result["error"].startswith("policy_denied: ") and "kasWrappedKey" not in result


def test_identity_fields_in_the_body_are_ignored_and_the_audit_shows_the_token_subject(kas_deployment, permitted):
    key, kao, policy = permitted
    spoof = {"userIdentity": {"uniqueID": "admin-usa", "clearance": "TOP_SECRET", "countryOfAffiliation": "USA"}}
    token = kas_deployment.issuer.token(clearance="CONFIDENTIAL", uniqueID="spoof-check-user")
    response = _post(kas_deployment, token, _srt(_rewrap_body(key, kao, policy, **spoof), key))
    result = response.json()["responses"][0]["results"][0]
    assert result["metadata"]["errorCode"] == "policy_denied"
    engine = create_engine_for(instance_database_url(kas_deployment.home, "usa"))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_factory(engine)() as session:
                entry = session.scalar(
                    select(DecisionLogEntry).where(DecisionLogEntry.decision_id == result["metadata"]["decisionId"])
                )
            if entry is not None:
                break
            time.sleep(0.1)
    finally:
        engine.dispose()
    assert entry is not None and entry.subject == "spoof-check-user" and entry.allow is False
    assert entry.service == "kas" and entry.kas["key_access_object_id"] == "kao-0"


def test_rewrap_with_an_edited_policy_fails_the_policy_binding(kas_deployment, permitted):
    key, kao, policy = permitted
    edited = base64.b64encode(base64.b64decode(policy).replace(b'"FRA"', b'"DEU"')).decode()
    edited = edited if edited != policy else policy[:-4] + "AAA="
    response = _post(kas_deployment, kas_deployment.issuer.token(), _srt(_rewrap_body(key, kao, edited), key))
    result = response.json()["responses"][0]["results"][0]
    assert result["status"] == "fail" and result["metadata"]["errorCode"] == "policy_binding_mismatch"


def test_rewrap_with_a_request_token_past_its_lifetime_is_refused(kas_deployment, permitted):
    key, kao, policy = permitted
    old = _srt(_rewrap_body(key, kao, policy), key, iat=int(time.time()) - 3600)
    response = _post(kas_deployment, kas_deployment.issuer.token(), old)
    assert response.status_code == 401 and response.json()["error"] == "srt_invalid"


def test_rewrap_with_a_request_token_signed_by_another_key_is_refused_in_strict_mode(kas_deployment, permitted):
    key, kao, policy = permitted
    response = _post(
        kas_deployment, kas_deployment.issuer.token(), _srt(_rewrap_body(key, kao, policy), _session_key())
    )
    assert response.status_code == 401 and response.json()["error"] == "srt_invalid"


def _forged(kas: KasDeployment) -> str:
    header, claims, _ = kas.issuer.token().split(".")
    other = sign({"x": 1}, _session_key(), kid="test-kid-1").split(".")[2]
    return f"{header}.{claims}.{other}"


def _alg_none(kas: KasDeployment) -> str:
    _header, claims, _ = kas.issuer.token().split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","kid":"test-kid-1"}').rstrip(b"=").decode()
    return f"{none}.{claims}."


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("forged", "token_invalid"),
        ("alg_none", "token_invalid"),
        ("hs256", "token_invalid"),
        ("expired", "token_expired"),
        ("wrong_audience", "token_invalid"),
        ("untrusted_issuer", "issuer_not_trusted"),
        ("missing", "token_missing"),
    ],
)
def test_rewrap_with_a_bad_access_token_answers_401_with_its_code(kas_deployment, permitted, case, code):
    key, kao, policy = permitted
    issuer = kas_deployment.issuer
    tokens = {
        "forged": lambda: _forged(kas_deployment),
        "alg_none": lambda: _alg_none(kas_deployment),
        "hs256": lambda: issuer.token().replace(issuer.token().split(".")[0], "eyJhbGciOiJIUzI1NiJ9"),
        "expired": lambda: issuer.token(exp=int(time.time()) - 120),
        "wrong_audience": lambda: issuer.token(aud="dive-v3-api"),
        "untrusted_issuer": lambda: issuer.token(iss="https://evil.example/realms/x"),
        "missing": lambda: None,
    }
    hits_before = len(issuer.jwks_hits)
    response = _post(kas_deployment, tokens[case](), _srt(_rewrap_body(key, kao, policy), key))
    assert response.status_code == 401 and response.json()["error"] == code
    assert response.json()["code"] == "unauthenticated"
    if case == "untrusted_issuer":
        assert len(issuer.jwks_hits) == hits_before  # refused before any JWKS fetch


def test_rewrap_with_an_oversized_body_answers_413(kas_deployment):
    with kas_deployment.kas.client() as c:
        response = c.post("/kas/v2/rewrap", content=b"{" + b" " * (2 * 1024 * 1024 + 1) + b"}")
    assert response.status_code == 413 and response.json()["error"] == "request_too_large"


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"signedRequestToken": 5}', b'{"signedRequestToken": "a.b.c"}', b"\xff\xfe"]
)
def test_rewrap_with_a_malformed_body_answers_400_never_500(kas_deployment, body):
    token = kas_deployment.issuer.token()
    with kas_deployment.kas.client() as c:
        response = c.post(
            "/kas/v2/rewrap",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 400 and response.json()["error"] in ("request_invalid", "srt_invalid")


def test_connect_rewrap_with_a_protobuf_content_type_answers_415(kas_deployment):
    with kas_deployment.kas.client() as c:
        response = c.post("/kas.AccessService/Rewrap", content=b"\x0a", headers={"Content-Type": "application/proto"})
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"


def test_public_key_endpoint_serves_the_active_key_and_refuses_ec(kas_deployment):
    with kas_deployment.kas.client() as c:
        v2 = c.get("/kas/v2/kas_public_key", params={"algorithm": "rsa:2048"}).json()
        ec = c.get("/kas/v2/kas_public_key", params={"algorithm": "ec:secp256r1"})
        connect = c.post("/kas.AccessService/PublicKey", json={"fmt": "jwk"}).json()
    assert v2["kid"] == "golden-r1" and v2["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert ec.status_code == 404 and ec.json()["error"] == "unsupported_algorithm"
    assert json.loads(connect["publicKey"])["kid"] == "golden-r1"


def test_metrics_count_rewrap_results_per_kao_with_the_instance_code(kas_deployment, permitted):
    key, kao, policy = permitted
    _post(kas_deployment, kas_deployment.issuer.token(), _srt(_rewrap_body(key, kao, policy), key))
    with kas_deployment.kas.client() as c:
        text = c.get("/metrics").text
    assert 'dive_kas_rewrap_total{instance_code="USA",result="permit"}' in text
    assert 'dive_authz_decisions_total{decision="allow",instance_code="USA",reason_code="ok",service="kas"}' in text
