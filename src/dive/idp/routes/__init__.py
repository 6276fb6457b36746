"""HTTP routes of the idp: OIDC endpoints, login pages, admin API, broker."""

from __future__ import annotations

__all__: list[str] = []
