"""Keycloak-compatible admin REST API subset (identity-api-ui §A.9)."""

from __future__ import annotations

__all__: list[str] = []
