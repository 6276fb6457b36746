"""Adapters that implement `dive.policy.engine.PolicyEngine`: embedded regopy and a remote OPA-compatible server."""

from __future__ import annotations

from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.engines.remote_opa import RemoteOpaEngine

__all__ = ["RegopyEngine", "RemoteOpaEngine"]
