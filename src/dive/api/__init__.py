"""The backend API, the policy enforcement point (identity-api-ui §B): `dive serve api` runs `create_app`."""

from __future__ import annotations

from dive.api.app import create_app

__all__ = ["create_app"]
