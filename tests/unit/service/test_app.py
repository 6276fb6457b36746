"""The app factory in-process: request ids, the error shape, health, metrics and body limits."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from starlette.requests import Request

from dive.service import (
    HttpError,
    ServiceSettings,
    create_service_app,
    load_service_settings,
    read_body_limited,
)

pytestmark = pytest.mark.anyio


class Item(BaseModel):
    name: str
    count: int


def _settings(home: Path) -> ServiceSettings:
    return load_service_settings("pdp", "fra", {"DIVE_HOME": str(home)})


def _build_app(home: Path, **kwargs: object) -> FastAPI:
    app = create_service_app(_settings(home), title="test", version="1.2.3", **kwargs)  # type: ignore[arg-type]

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/items")
    async def post_item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.get("/conflict")
    async def conflict() -> None:
        raise HttpError("conflict", "Spoke FRA is already registered.", status=409, details={"code": "FRA"})

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=403, detail="Only the hub may do this.")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-db-password in a stack trace")

    @app.post("/small")
    async def small(request: Request) -> dict[str, int]:
        return {"size": len(await read_body_limited(request, 10))}

    return app


@pytest.fixture
async def client(dive_home: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with _client_for(_build_app(dive_home)) as http:
        yield http


def _client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


def _assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    body = response.json()
    assert response.status_code == status
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["requestId"] == response.headers["x-request-id"]
    assert set(body) <= {"error", "message", "requestId", "details"}
    return body


async def test_valid_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/1", headers={"X-Request-ID": "api-1234:abcd.EF_g"})
    assert response.headers["x-request-id"] == "api-1234:abcd.EF_g"


@pytest.mark.parametrize("bad", ["short", "has space in it", "x" * 129, "semi;colon;value"])
async def test_malformed_incoming_request_id_is_replaced_by_a_uuid(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/items/1", headers={"X-Request-ID": bad})
    assert response.headers["x-request-id"] != bad
    assert uuid.UUID(response.headers["x-request-id"]).version == 4


async def test_request_without_id_gets_a_fresh_one_per_request(client: httpx.AsyncClient) -> None:
    first, second = await client.get("/items/1"), await client.get("/items/1")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.headers.get_list("x-request-id") == [first.headers["x-request-id"]]


async def test_unknown_route_answers_404_not_found_in_the_error_shape(client: httpx.AsyncClient) -> None:
    _assert_error_shape(await client.get("/nowhere", headers={"X-Request-ID": "req-00000001"}), 404, "not_found")


async def test_wrong_method_answers_405_with_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.delete("/items/1")
    _assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_http_error_keeps_its_code_status_and_details(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.get("/conflict"), 409, "conflict")
    assert body["details"] == {"code": "FRA"}
    assert body["message"] == "Spoke FRA is already registered."


async def test_plain_http_exception_gets_the_code_of_its_status(client: httpx.AsyncClient) -> None:
    body = _assert_error_shape(await client.get("/teapot"), 403, "access_denied")
    assert body["message"] == "Only the hub may do this."


async def test_validation_error_answers_400_invalid_request_naming_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "x", "count": "not-a-number-hunter2"})
    body = _assert_error_shape(response, 400, "invalid_request")
    errors = body["details"]["errors"]  # type: ignore[index]
    assert [error["field"] for error in errors] == ["body.count"]
    assert "hunter2" not in response.text


async def test_path_parameter_of_wrong_type_answers_400(client: httpx.AsyncClient) -> None:
    _assert_error_shape(await client.get("/items/abc"), 400, "invalid_request")


async def test_unhandled_error_answers_500_without_leaking_and_logs_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="dive.service.middleware"):
        response = await client.get("/boom", headers={"X-Request-ID": "trace-me-123"})
    body = _assert_error_shape(response, 500, "internal_error")
    assert body["requestId"] == "trace-me-123"
    assert "secret" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.name == "dive.service.middleware"]
    assert record.exc_info is not None and "secret-db-password" in str(record.exc_info[1])


async def test_declared_body_over_the_app_limit_answers_413(dive_home: Path) -> None:
    async with _client_for(_build_app(dive_home, max_body_bytes=100)) as http:
        response = await http.post("/items", content=b"x" * 101, headers={"content-type": "application/json"})
    body = _assert_error_shape(response, 413, "payload_too_large")
    assert body["details"] == {"maxBytes": 100}


async def test_streamed_body_over_the_app_limit_answers_413(dive_home: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b'{"name": "' + b"y" * 40

    async with _client_for(_build_app(dive_home, max_body_bytes=100)) as http:
        response = await http.post("/items", content=chunks(), headers={"content-type": "application/json"})
    _assert_error_shape(response, 413, "payload_too_large")


async def test_body_under_the_app_limit_is_served(dive_home: Path) -> None:
    async with _client_for(_build_app(dive_home, max_body_bytes=100)) as http:
        response = await http.post("/items", json={"name": "doc", "count": 1})
    assert response.status_code == 200 and response.json() == {"name": "doc"}


async def test_route_limit_helper_refuses_a_body_over_its_own_limit(client: httpx.AsyncClient) -> None:
    assert (await client.post("/small", content=b"0123456789")).json() == {"size": 10}
    _assert_error_shape(await client.post("/small", content=b"0123456789!"), 413, "payload_too_large")


async def test_health_live_is_up_without_running_checks(dive_home: Path) -> None:
    async def never() -> None:
        raise AssertionError("liveness must not run readiness checks")

    async with _client_for(_build_app(dive_home, readiness_checks={"db": never})) as http:
        response = await http.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "UP", "checks": []}


async def test_health_reports_identity_checks_and_extra_fields(dive_home: Path) -> None:
    async def database() -> None:
        return None

    app = _build_app(dive_home, readiness_checks={"database": database}, health_extra=lambda: {"revision": "r42"})
    async with _client_for(app) as http:
        response = await http.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["service"], body["instance"], body["version"]) == ("UP", "pdp", "FRA", "1.2.3")
    assert body["revision"] == "r42" and body["uptimeSeconds"] >= 0
    assert [(c["name"], c["status"]) for c in body["checks"]] == [("database", "UP")]


async def test_readiness_answers_503_naming_the_failing_check(dive_home: Path) -> None:
    async def database() -> None:
        return None

    async def policy() -> None:
        raise HttpError("policy_unavailable", "bundle not loaded", status=503)

    async with _client_for(_build_app(dive_home, readiness_checks={"database": database, "policy": policy})) as http:
        ready, health = await http.get("/health/ready"), await http.get("/health")
    assert ready.status_code == 503 and health.status_code == 503
    checks = {c["name"]: c for c in ready.json()["checks"]}
    assert ready.json()["status"] == "DOWN" and health.json()["status"] == "DOWN"
    assert checks["database"]["status"] == "UP"
    assert checks["policy"]["status"] == "DOWN" and checks["policy"]["error"] == "policy_unavailable"


async def test_readiness_check_that_hangs_times_out_as_down(dive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    from dive.service import health

    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.05)

    async def hangs() -> None:
        await anyio.sleep(10)

    async with _client_for(_build_app(dive_home, readiness_checks={"redis": hangs})) as http:
        response = await http.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"][0]["error"].startswith("timed out")


async def test_extra_health_prefix_serves_the_same_routes(dive_home: Path) -> None:
    async with _client_for(_build_app(dive_home, health_prefixes=("/api/health", "/health"))) as http:
        statuses = [(await http.get(path)).status_code for path in ("/api/health", "/api/health/ready", "/health")]
    assert statuses == [200, 200, 200]


def _sample(exposition: str, name: str, **labels: str) -> float | None:
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return None


async def test_metrics_count_requests_by_route_template_with_instance_code(client: httpx.AsyncClient) -> None:
    for item in (1, 2, 3):
        await client.get(f"/items/{item}")
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    labels = {"instance_code": "FRA", "service": "pdp", "method": "GET"}
    assert _sample(text, "dive_http_requests_total", route="/items/{item_id}", status="200", **labels) == 3
    assert _sample(text, "dive_http_requests_total", route="unmatched", status="404", **labels) == 1
    assert _sample(text, "http_request_duration_seconds_count", route="/items/{item_id}", **labels) == 3
    assert _sample(text, "dive_service_info", instance_code="FRA", service="pdp", version="1.2.3") == 1
    assert 'instance="' not in text  # CONSISTENCY #30: no DIVE metric exports `instance`
    assert "/items/1" not in text


async def test_two_apps_in_one_process_keep_separate_metrics(dive_home: Path) -> None:
    first, second = _build_app(dive_home), _build_app(dive_home)
    async with _client_for(first) as one, _client_for(second) as two:
        await one.get("/items/1")
        text = (await two.get("/metrics")).text
    assert _sample(text, "dive_http_requests_total", route="/items/{item_id}") is None


async def test_certificate_expiry_is_exported_when_certificates_exist(dive_home: Path) -> None:
    from dive.pki import ensure_service_certificate

    ensure_service_certificate(dive_home, "fra", "pdp", "localhost")
    async with _client_for(_build_app(dive_home)) as http:
        text = (await http.get("/metrics")).text
    leaf = _sample(text, "dive_tls_cert_not_after_seconds", kind="leaf", instance_code="FRA")
    ca = _sample(text, "dive_tls_cert_not_after_seconds", kind="ca", instance_code="FRA")
    assert leaf is not None and ca is not None and ca > leaf
