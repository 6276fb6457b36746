"""Rendering of the monitoring stack's configuration (orchestration §12.2, CONSISTENCY #30, #31)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dive.orchestration.monitoring import MonitoringUnavailableError, monitoring_status, monitoring_up, scrape_targets
from dive.orchestration.monitoring_config import (
    DEFAULT_ALERT_WEBHOOK_URL,
    ScrapeTarget,
    alert_webhook_url,
    render_alertmanager_config,
    render_prometheus_config,
    rendered_interval_s,
    scrape_interval_s,
)

TARGETS = [ScrapeTarget("USA", "api", 4000), ScrapeTarget("FRA", "api", 4010), ScrapeTarget("USA", "pdp", 8181)]


def _load(text: str) -> Any:
    """The rendered files are JSON after one comment line, which YAML readers accept too."""
    header, body = text.split("\n", 1)
    assert header.startswith("# ")
    return json.loads(body)


def _prometheus(interval_s: int = 15) -> Any:
    text = render_prometheus_config(
        TARGETS,
        host="localhost",
        ca_file=Path("/home/pki/bundle.pem"),
        rules_dir=Path("/home/monitoring/rules"),
        alertmanager_port=29093,
        interval_s=interval_s,
    )
    return _load(text)


def test_prometheus_config_has_one_dive_job_with_a_labelled_target_per_instance_and_service() -> None:
    [job] = _prometheus()["scrape_configs"]

    assert job["job_name"] == "dive" and job["scheme"] == "https" and "honor_labels" not in job
    assert job["tls_config"] == {"ca_file": "/home/pki/bundle.pem"}
    assert job["static_configs"] == [
        {"targets": ["localhost:4010"], "labels": {"instance_code": "FRA", "service": "api"}},
        {"targets": ["localhost:4000"], "labels": {"instance_code": "USA", "service": "api"}},
        {"targets": ["localhost:8181"], "labels": {"instance_code": "USA", "service": "pdp"}},
    ]


def test_prometheus_config_keeps_the_instance_code_and_service_a_target_exports() -> None:
    [job] = _prometheus()["scrape_configs"]

    assert job["metric_relabel_configs"] == [
        {"source_labels": ["exported_instance_code"], "regex": "(.+)", "target_label": "instance_code"},
        {"source_labels": ["exported_service"], "regex": "(.+)", "target_label": "service"},
        {"regex": "exported_instance_code|exported_service", "action": "labeldrop"},
    ]


def test_prometheus_config_loads_the_rules_and_alerts_the_local_alertmanager() -> None:
    config = _prometheus()

    assert config["rule_files"] == ["/home/monitoring/rules/*.yml"]
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:29093"]}]}]}


@pytest.mark.parametrize(("interval_s", "timeout"), [(15, "10s"), (1, "1s")])
def test_scrape_timeout_never_exceeds_the_interval(interval_s: int, timeout: str) -> None:
    config = _prometheus(interval_s)
    [job] = config["scrape_configs"]

    assert config["global"]["scrape_interval"] == job["scrape_interval"] == f"{interval_s}s"
    assert job["scrape_timeout"] == timeout


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, 15), ({"DIVE_ENV": "local"}, 15), ({"DIVE_ENV": "test"}, 1), ({"DIVE_TEST_HOOKS": "1"}, 1)],
)
def test_tests_scrape_every_second(environ: dict[str, str], expected: int) -> None:
    assert scrape_interval_s(environ) == expected


def test_rendered_interval_is_read_back_from_a_rendered_config_only() -> None:
    rendered = render_prometheus_config(
        TARGETS, host="localhost", ca_file=Path("/ca"), rules_dir=Path("/r"), alertmanager_port=9093, interval_s=1
    )

    assert rendered_interval_s(rendered) == 1
    assert rendered_interval_s("global:\n  scrape_interval: 15s\n") is None


def test_alertmanager_config_has_a_non_empty_receiver_and_inhibits_noise_while_a_service_is_down() -> None:
    config = _load(render_alertmanager_config(webhook_url="https://alerts.example/hook"))

    [receiver] = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    assert receiver["webhook_configs"] == [{"url": "https://alerts.example/hook", "send_resolved": True}]
    [inhibit] = config["inhibit_rules"]
    assert inhibit["source_matchers"] == ['alertname="ServiceDown"']
    assert inhibit["target_matchers"] == ['alertname=~"FederationDown|HighAuthzDenyRate|AuthzLatencyHigh"']
    assert inhibit["equal"] == ["instance_code"]


def test_webhook_defaults_to_the_local_example_receiver() -> None:
    assert alert_webhook_url({}) == DEFAULT_ALERT_WEBHOOK_URL
    assert alert_webhook_url({"DIVE_ALERT_WEBHOOK_URL": "https://ops/hook"}) == "https://ops/hook"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is absent: apt-get install prometheus")
def test_promtool_accepts_the_rendered_prometheus_config(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "bundle.pem").write_text("")
    config = render_prometheus_config(
        TARGETS,
        host="localhost",
        ca_file=tmp_path / "bundle.pem",
        rules_dir=tmp_path / "rules",
        alertmanager_port=9093,
        interval_s=1,
    )
    (tmp_path / "prometheus.yml").write_text(config)

    result = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is absent: apt-get install prometheus-alertmanager")
def test_amtool_accepts_the_rendered_alertmanager_config(tmp_path: Path) -> None:
    (tmp_path / "alertmanager.yml").write_text(render_alertmanager_config(webhook_url=DEFAULT_ALERT_WEBHOOK_URL))

    result = subprocess.run(
        ["amtool", "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_targets_come_from_every_rendered_instance_config(tmp_path: Path) -> None:
    for code, port in (("usa", 4000), ("fra", 4010)):
        (tmp_path / "instances" / code).mkdir(parents=True)
        program = {"port": port, "command": [], "environment": {"DIVE_SERVICE": "api"}}
        body = {"instance": code.upper(), "programs": {f"{code}-api": program}}
        (tmp_path / "instances" / code / "config.json").write_text(json.dumps(body))
    (tmp_path / "instances" / "deu").mkdir()  # allocated, never rendered

    assert sorted(scrape_targets(tmp_path)) == [ScrapeTarget("FRA", "api", 4010), ScrapeTarget("USA", "api", 4000)]


def test_monitoring_up_without_the_binaries_names_the_apt_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    with pytest.raises(MonitoringUnavailableError, match="prometheus and prometheus-alertmanager not found") as err:
        monitoring_up(tmp_path, {})
    assert err.value.remediation == "apt-get install prometheus prometheus-alertmanager"
    assert err.value.exit_code == 1
    assert not (tmp_path / "monitoring").exists()


def test_status_without_a_supervisor_reports_the_stack_absent(tmp_path: Path) -> None:
    document = monitoring_status(tmp_path, {"DIVE_PORT_SHIFT": "20000"})

    assert document["running"] is False
    assert document["prometheus"] == {"url": "http://127.0.0.1:29090", "state": "ABSENT"}
    assert document["targets"] == {"up": 0, "total": 0, "items": [], "error": None}
