"""OAuth 2.0 / OpenID Connect protocol rules, one module per specification."""

from __future__ import annotations

__all__: list[str] = []
