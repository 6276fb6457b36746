"""The `pdp` service: OPA-compatible data API and AuthZEN 1.0 over the embedded engine (spec/abac.md §1.4)."""

from __future__ import annotations

from dive.policy.pdp.app import create_app

__all__ = ["create_app"]
