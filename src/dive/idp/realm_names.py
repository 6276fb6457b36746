"""Names of the realms every idp has."""

from __future__ import annotations

__all__ = ["MASTER_REALM"]

MASTER_REALM = "master"
