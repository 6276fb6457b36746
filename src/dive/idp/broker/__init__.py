"""Brokering with partner OpenID Connect identity providers (identity-api-ui §A.8)."""

from __future__ import annotations

__all__: list[str] = []
