"""A real service process built on the skeleton: HTTPS with the deployment CA, harness, logs, shutdown."""

from __future__ import annotations

import json
import signal
import ssl
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import ServiceProcess, ServiceStartError, pick_free_port, spawn_service, start_service

SKELETON = Path(__file__).resolve().parent / "_skeleton_app.py"


def _spawn_skeleton(home: Path, *, env: dict[str, str] | None = None, timeout_s: float = 30.0) -> ServiceProcess:
    port = pick_free_port()
    argv = [sys.executable, str(SKELETON), "--instance", "usa", "--port", str(port)]
    return spawn_service(argv, service="pdp", instance="usa", home=home, port=port, env=env, timeout_s=timeout_s)


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with _spawn_skeleton(tmp_path_factory.mktemp("skeleton-home")) as service:
        yield service


def test_service_answers_over_https_verified_with_the_deployment_ca(skeleton: ServiceProcess) -> None:
    with skeleton.client() as client:
        response = client.get("/health", headers={"X-Request-ID": "it-skeleton-0001"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "it-skeleton-0001"
    body = response.json()
    assert (body["status"], body["service"], body["instance"]) == ("UP", "pdp", "USA")
    assert [check["name"] for check in body["checks"]] == ["database"]


def test_default_trust_store_rejects_the_service_certificate(skeleton: ServiceProcess) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{skeleton.url}/health/live", verify=ssl.create_default_context())


def test_certificate_and_key_are_issued_into_the_home(skeleton: ServiceProcess) -> None:
    certs = skeleton.home / "instances" / "usa" / "certs"
    assert (certs / "pdp.crt").is_file()
    assert stat.S_IMODE((certs / "pdp.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((skeleton.home / "pki" / "ca.key").stat().st_mode) == 0o600


def test_errors_metrics_and_request_log_lines_work_end_to_end(skeleton: ServiceProcess) -> None:
    with skeleton.client() as client:
        assert client.get("/echo/hello").json() == {"word": "hello"}
        missing = client.get("/missing", headers={"X-Request-ID": "it-missing-0001"})
        metrics = client.get("/metrics").text
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert 'route="/echo/{word}"' in metrics and 'instance_code="USA"' in metrics
    assert 'kind="leaf"' in metrics and "dive_tls_cert_not_after_seconds" in metrics
    lines = [json.loads(line) for line in skeleton.log_path.read_text().splitlines() if line.startswith("{")]
    [logged] = [line for line in lines if line.get("request_id") == "it-missing-0001"]
    assert (logged["status"], logged["path"], logged["service"], logged["instance"]) == (404, "/missing", "pdp", "USA")


def test_sigterm_shuts_the_service_down_gracefully(tmp_path: Path) -> None:
    service = _spawn_skeleton(tmp_path)
    # uvicorn finishes the shutdown, then re-raises SIGTERM so the parent sees how it ended.
    assert service.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in service.log_tail()


def test_harness_reports_a_service_that_never_becomes_ready_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServiceStartError, match=r"not ready .*HTTP 503") as error:
        _spawn_skeleton(tmp_path, env={"DIVE_SKELETON_NOT_READY": "1"}, timeout_s=3)
    assert "log tail" in str(error.value)


def test_harness_reports_a_service_that_exits_with_its_code_and_log(tmp_path: Path) -> None:
    with pytest.raises(ServiceStartError, match="exited with 2") as error:
        start_service("pdp", "usa", home=tmp_path, env={"DIVE_ENV": "staging"}, timeout_s=20)
    assert "staging" in str(error.value)  # the log tail names the bad value
