"""The alert rules (identity-api-ui §D.3) checked and unit-tested by Prometheus' own `promtool` (§D.4)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dive.observability.alert_rules import ALERT_RULES_FILE, ALERT_RULES_TEST_FILE

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is absent: apt-get install prometheus (CI installs it)"
)
SPEC_ALERTS = {
    "ServiceDown",
    "SpokeDeploymentFailed",
    "FederationDown",
    "HighAuthzDenyRate",
    "AuthzLatencyHigh",
    "KASErrorsHigh",
    "IdPLoginFailuresHigh",
    "CertificateExpiringSoon",
}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@needs_promtool
def test_promtool_accepts_the_rule_file() -> None:
    result = _promtool("check", "rules", ALERT_RULES_FILE.name, cwd=ALERT_RULES_FILE.parent)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


@needs_promtool
def test_every_alert_fires_after_its_for_and_stays_silent_below_its_threshold() -> None:
    result = _promtool("test", "rules", ALERT_RULES_TEST_FILE.name, cwd=ALERT_RULES_TEST_FILE.parent)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rules_are_the_spec_alerts_each_with_labels_annotations_and_a_test() -> None:
    [group] = yaml.safe_load(ALERT_RULES_FILE.read_text())["groups"]
    tested = {
        case["alertname"]
        for test in yaml.safe_load(ALERT_RULES_TEST_FILE.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }

    assert group["name"] == "dive"
    assert {rule["alert"] for rule in group["rules"]} == SPEC_ALERTS == tested
    for rule in group["rules"]:
        assert set(rule["labels"]) == {"severity", "component"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook"}
        assert rule["annotations"]["runbook"] == f"docs/runbooks/{rule['alert']}.md"
        assert "$labels.instance " not in rule["annotations"]["summary"]  # CONSISTENCY #30: instance_code
