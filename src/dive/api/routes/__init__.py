"""The api's routes, one module per group of identity-api-ui §B.1.2; static paths before parameterised ones."""

from __future__ import annotations

from dive.api.routes.audit import router as audit_router
from dive.api.routes.identity import router as identity_router
from dive.api.routes.registry import router as registry_router
from dive.api.routes.resources import router as resources_router

__all__ = ["audit_router", "identity_router", "registry_router", "resources_router"]
