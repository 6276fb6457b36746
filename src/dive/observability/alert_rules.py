"""Where the alert rules shipped with the package live (identity-api-ui §D.3); `dive monitoring up` copies them."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["ALERT_RULES_FILE", "ALERT_RULES_TEST_FILE"]

_RULES: Final = Path(__file__).parent / "rules"
ALERT_RULES_FILE: Final = _RULES / "dive-alerts.yml"
ALERT_RULES_TEST_FILE: Final = _RULES / "dive-alerts_test.yml"
