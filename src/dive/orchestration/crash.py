"""Crash points for resilience tests (spec/orchestration.md §13.3): with `DIVE_TEST_HOOKS=1` and outside production,
reaching the point named by `DIVE_TEST_CRASH_AT` sends this process SIGKILL."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

__all__ = ["crash_at", "hooks_enabled"]


def hooks_enabled(environ: Mapping[str, str]) -> bool:
    """`DIVE_TEST_HOOKS=1`, ignored when `DIVE_ENV=production` (§1.1)."""
    return environ.get("DIVE_TEST_HOOKS") == "1" and environ.get("DIVE_ENV", "").lower() != "production"


def crash_at(point: str, environ: Mapping[str, str]) -> None:
    """Die by SIGKILL here when `point` is the configured crash point; otherwise do nothing."""
    if hooks_enabled(environ) and environ.get("DIVE_TEST_CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
