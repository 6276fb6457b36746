"""Deployment metrics on the hub api and `dive monitoring up|status|down` over real processes (orchestration §12,
§13.2 "Clean deploy"): Prometheus scrapes the hub and serves `dive_deployment_success` for USA."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dive import catalog
from dive.pki import ssl_context_for
from harness import free_port_shift

from .cli import Deployment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
        reason="apt-get install prometheus prometheus-alertmanager (CI installs them)",
    ),
]

SEED_COUNT = "10"
HEALTH_TIMEOUTS = {f"DIVE_HEALTH_TIMEOUT_{service}": "120" for service in ("PDP", "IDP", "KAS", "API")}  # 2 busy cores
SCRAPE_WAIT_S = 60.0  # Prometheus applies new targets after a 5 s reload throttle, then scrapes every 1 s


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(
        tmp_path_factory.mktemp("monitoring") / "home", free_port_shift(("usa", "fra"), monitoring=True)
    )
    deployed = deployment.run("hub", "deploy", "--seed-count", SEED_COUNT, DIVE_TEST_HOOKS="1", **HEALTH_TIMEOUTS)
    try:
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        yield deployment
    finally:
        deployment.run("nuke", "all", "--confirm")


def _hub_metrics(deployment: Deployment) -> str:
    url = f"https://localhost:{catalog.port('usa', 'api', shift=deployment.shift)}/metrics"
    return httpx.get(url, verify=ssl_context_for(deployment.home / "pki" / "bundle.pem"), timeout=10).text


def _status(deployment: Deployment) -> dict[str, Any]:
    answer = deployment.run("monitoring", "status", "--json", DIVE_TEST_HOOKS="1")
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def _poll(check: Any, what: str) -> Any:
    """Bounded polling for what Prometheus does on its own schedule; the bound only stops a hung test."""
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while (result := check()) is None:
        assert time.monotonic() < deadline, f"{what} did not happen within {SCRAPE_WAIT_S:g} s"
        time.sleep(0.5)
    return result


def test_hub_api_exports_phase_durations_and_success_of_the_deploy(hub: Deployment) -> None:
    text = _hub_metrics(hub)

    assert 'dive_deployment_duration_seconds_count{instance_code="USA",phase="SERVICES"} 1.0' in text
    assert 'dive_deployment_duration_seconds_count{instance_code="USA",phase="total"} 1.0' in text
    assert 'dive_deployment_success{instance_code="USA"} 1.0' in text
    assert 'dive_deployment_state{instance_code="USA",state="COMPLETE"} 1.0' in text
    assert 'dive_orchestration_open_errors{instance_code="USA",severity="critical"} 0.0' in text


@pytest.fixture(scope="module")
def prometheus(hub: Deployment) -> Iterator[str]:
    up = hub.run("monitoring", "up", "--json", DIVE_TEST_HOOKS="1", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield json.loads(up.stdout)["prometheus"]["url"]
    finally:
        hub.run("monitoring", "down")


def _targets_up(deployment: Deployment, codes: set[str]) -> dict[str, Any] | None:
    targets = _status(deployment)["targets"]
    seen = {item["instance_code"] for item in targets["items"]}
    return targets if seen == codes and targets["up"] == targets["total"] else None


def test_monitoring_up_renders_the_config_and_prometheus_scrapes_every_hub_service(hub: Deployment, prometheus: str):
    assert httpx.get(f"{prometheus}/-/ready", timeout=5).status_code == 200
    config = (hub.home / "monitoring" / "prometheus.yml").read_text()
    assert '"scrape_interval": "1s"' in config and str(hub.home / "pki" / "bundle.pem") in config
    assert (hub.home / "monitoring" / "rules" / "dive-alerts.yml").exists()

    targets = _poll(lambda: _targets_up(hub, {"USA"}), "every hub target up")
    assert {"api", "idp", "kas", "pdp"} <= {item["service"] for item in targets["items"]}


def test_prometheus_serves_the_hub_deployment_success(hub: Deployment, prometheus: str):
    def success_series() -> list[dict[str, Any]] | None:
        query = httpx.get(f"{prometheus}/api/v1/query", params={"query": "dive_deployment_success"}, timeout=5)
        return query.json()["data"]["result"] or None

    [series] = _poll(success_series, "a scrape of dive_deployment_success")
    assert series["metric"]["instance_code"] == "USA" and series["metric"]["job"] == "dive"
    assert series["value"][1] == "1"


def test_a_spoke_deploy_adds_its_targets_to_the_running_prometheus(hub: Deployment, prometheus: str):
    deployed = hub.run("spoke", "deploy", "fra", "--skip-federation", "--seed-count", SEED_COUNT, **HEALTH_TIMEOUTS)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    targets = _poll(lambda: _targets_up(hub, {"USA", "FRA"}), "FRA's targets up")
    assert sum(1 for item in targets["items"] if item["instance_code"] == "FRA") >= 4
    assert '"scrape_interval": "1s"' in (hub.home / "monitoring" / "prometheus.yml").read_text()

    def fra_success() -> list[dict[str, Any]] | None:
        query = {"query": 'dive_deployment_success{instance_code="FRA"}'}
        return httpx.get(f"{prometheus}/api/v1/query", params=query, timeout=5).json()["data"]["result"] or None

    [series] = _poll(fra_success, "FRA's deployment success through the hub api")
    hub_api = f"localhost:{catalog.port('usa', 'api', shift=hub.shift)}"
    assert series["metric"]["instance"] == hub_api and "exported_instance_code" not in series["metric"]


def test_nuking_the_spoke_removes_its_targets_from_the_running_prometheus(hub: Deployment, prometheus: str):
    nuked = hub.run("nuke", "spoke", "fra", "--confirm")

    assert nuked.returncode == 0, nuked.stdout + nuked.stderr
    assert '"FRA"' not in (hub.home / "monitoring" / "prometheus.yml").read_text()
    _poll(lambda: _targets_up(hub, {"USA"}), "FRA's targets gone")


def test_monitoring_down_stops_prometheus(hub: Deployment, prometheus: str):
    down = hub.run("monitoring", "down")

    assert down.returncode == 0 and "Monitoring stopped." in down.stdout
    assert _status(hub)["running"] is False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{prometheus}/-/ready", timeout=5)
