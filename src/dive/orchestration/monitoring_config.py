"""The monitoring stack's configuration (orchestration §12.2, CONSISTENCY #31): pure rendering, no I/O.

The files are written as JSON, which is YAML too: Prometheus and Alertmanager read them unchanged and the CLI needs
no YAML library."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_ALERT_WEBHOOK_URL",
    "SCRAPE_JOB",
    "ScrapeTarget",
    "alert_webhook_url",
    "render_alertmanager_config",
    "render_prometheus_config",
    "rendered_interval_s",
    "scrape_interval_s",
]

SCRAPE_JOB: Final = "dive"
DEFAULT_INTERVAL_S: Final = 15
TEST_INTERVAL_S: Final = 1
MAX_SCRAPE_TIMEOUT_S: Final = 10
# Alertmanager's own example webhook receiver listens here; DIVE_ALERT_WEBHOOK_URL points alerts elsewhere.
DEFAULT_ALERT_WEBHOOK_URL: Final = "http://127.0.0.1:5001/"
# identity-api-ui §D.3: while a service is down, the alerts it causes are noise.
_INHIBITED_BY_SERVICE_DOWN: Final = ("FederationDown", "HighAuthzDenyRate", "AuthzLatencyHigh")
_TARGET_LABELS: Final = ("instance_code", "service")
_HEADER: Final = "# Rendered by `dive monitoring up` (orchestration §12.2); edits are overwritten.\n"


@dataclass(frozen=True, order=True)
class ScrapeTarget:
    """One service of one deployed instance; `instance_code` is upper case (CONSISTENCY #8)."""

    instance_code: str
    service: str
    port: int


def scrape_interval_s(environ: Mapping[str, str]) -> int:
    """15 s; 1 s in tests (`DIVE_ENV=test` or `DIVE_TEST_HOOKS=1`), so a test sees its targets within seconds."""
    testing = (environ.get("DIVE_ENV") or "").lower() == "test" or environ.get("DIVE_TEST_HOOKS") == "1"
    return TEST_INTERVAL_S if testing else DEFAULT_INTERVAL_S


def rendered_interval_s(prometheus_yml: str) -> int | None:
    """The scrape interval of a configuration this module rendered; None for anything else."""
    try:
        interval = json.loads(prometheus_yml.removeprefix(_HEADER))["global"]["scrape_interval"]
    except (ValueError, KeyError, TypeError):
        return None
    digits = str(interval).removesuffix("s")
    return int(digits) if digits.isdigit() else None


def alert_webhook_url(environ: Mapping[str, str]) -> str:
    return environ.get("DIVE_ALERT_WEBHOOK_URL", "").strip() or DEFAULT_ALERT_WEBHOOK_URL


def render_prometheus_config(
    targets: Sequence[ScrapeTarget],
    *,
    host: str,
    ca_file: Path,
    rules_dir: Path,
    alertmanager_port: int,
    interval_s: int,
) -> str:
    """One job `dive`, one target per instance and service, labelled `instance_code` and `service` (CONSISTENCY #31)."""
    interval = f"{interval_s}s"
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules_dir / "*.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "scheme": "https",
                "metrics_path": "/metrics",
                "scrape_interval": interval,
                "scrape_timeout": f"{min(interval_s, MAX_SCRAPE_TIMEOUT_S)}s",  # may not exceed the interval
                "tls_config": {"ca_file": str(ca_file)},
                "static_configs": [
                    {
                        "targets": [f"{host}:{target.port}"],
                        "labels": {"instance_code": target.instance_code, "service": target.service},
                    }
                    for target in sorted(targets)
                ],
                "metric_relabel_configs": _keep_exported_labels(),
            }
        ],
    }
    return _HEADER + json.dumps(config, indent=2) + "\n"


def _keep_exported_labels() -> list[dict[str, object]]:
    """Services export `instance_code` and `service` themselves, and the hub api exports `dive_deployment_*` for
    other instances. Without `honor_labels` (CONSISTENCY #30) Prometheus moves a scraped value to `exported_<label>`
    and writes the target's over it; move the scraped value back, so FRA's deployment stays FRA's."""
    rules: list[dict[str, object]] = []
    for label in _TARGET_LABELS:
        rules.append({"source_labels": [f"exported_{label}"], "regex": "(.+)", "target_label": label})
    rules.append({"regex": "|".join(f"exported_{label}" for label in _TARGET_LABELS), "action": "labeldrop"})
    return rules


def render_alertmanager_config(*, webhook_url: str) -> str:
    """A single webhook receiver (identity-api-ui §D.3: never an empty receiver) and the ServiceDown inhibitions."""
    config = {
        "route": {
            "receiver": "dive-webhook",
            "group_by": ["alertname", "instance_code"],
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "4h",
        },
        "receivers": [{"name": "dive-webhook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="ServiceDown"'],
                "target_matchers": [f'alertname=~"{"|".join(_INHIBITED_BY_SERVICE_DOWN)}"'],
                "equal": ["instance_code"],
            }
        ],
    }
    return _HEADER + json.dumps(config, indent=2) + "\n"
