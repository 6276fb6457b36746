"""The orchestrator (spec/orchestration.md): state machine, locks, pipeline runner and the local runtime."""

from __future__ import annotations

__all__: list[str] = []
