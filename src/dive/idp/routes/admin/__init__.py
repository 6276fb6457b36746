"""Admin REST API routes (§A.9), one module per resource; `router` combines them."""

from __future__ import annotations

from fastapi import APIRouter

from dive.idp.routes.admin import clients, identity_providers, realm_tools, realms, roles, users

__all__ = ["router"]

router = APIRouter()
for _module in (realms, users, roles, clients, identity_providers, realm_tools):
    router.include_router(_module.router)
