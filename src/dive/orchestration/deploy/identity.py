"""IDENTITY (hub) and C1 (spoke): the desired state of realm `dive-v3-broker-<c>` applied object by object
(spec/orchestration.md §4.5): GET, absent → POST (409: a concurrent creator won), different managed field → PUT,
never delete; passwords and TOTP secrets only at creation. `identity_plan` computes the same diff read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from dive import catalog
from dive.orchestration.deploy.idp_admin import IdpAdmin
from dive.orchestration.deploy.instance import InstanceFacts
from dive.seed import ADMIN_ROLE, AccountSpec

__all__ = ["BACKEND_CLIENT", "Change", "apply_identity", "identity_plan"]

BACKEND_CLIENT: Final = "dive-v3-backend-client"
API_AUDIENCE: Final = "dive-v3-api"
_MANAGED_CLIENT_FIELDS: Final = ("redirectUris", "directAccessGrantsEnabled", "standardFlowEnabled", "publicClient")


@dataclass(frozen=True)
class Change:
    action: str  # create-realm, create-role, create-client, update-client, create-user
    name: str
    body: Mapping[str, Any]

    def describe(self) -> str:
        return f"{self.action} {self.name}"


def identity_plan(facts: InstanceFacts, admin: IdpAdmin) -> list[Change]:
    """Every change the desired state needs now; empty when the realm matches (IDENTITY's live check)."""
    roles = [{"name": ADMIN_ROLE, "description": "DIVE administrator"}]
    clients = _clients(facts)
    users = [_user(facts, account) for account in facts.accounts]
    if not admin.realm_exists():
        realm = {"realm": facts.realm, "enabled": True, "displayName": f"DIVE V3 {facts.display}"}
        body = realm | {"roles": {"realm": roles}, "clients": clients, "users": users}
        return [Change("create-realm", facts.realm, body)]
    changes = [Change("create-role", r["name"], r) for r in roles if not _role_exists(admin, r["name"])]
    for client in clients:
        changes += _client_changes(admin, client)
    for user in users:
        if not admin.find("/users", username=user["username"], exact="true"):
            changes.append(Change("create-user", user["username"], user))
    return changes


def apply_identity(facts: InstanceFacts, admin: IdpAdmin) -> list[Change]:
    """Apply the plan; then clear the realm and user caches when anything changed."""
    changes = identity_plan(facts, admin)
    for change in changes:
        _apply(admin, change)
    if changes:
        for cache in ("clear-realm-cache", "clear-user-cache"):
            admin.expect(admin.request("POST", f"/{cache}"), (200, 204), f"POST {cache}")
    return changes


def _apply(admin: IdpAdmin, change: Change) -> None:
    if change.action == "create-realm":
        admin.expect(admin.request("POST", "admin/realms", json=change.body), (201, 409), "POST realm")
    elif change.action == "create-role":
        admin.expect(admin.request("POST", "/roles", json=change.body), (201, 409), f"POST role {change.name}")
    elif change.action == "create-client":
        admin.expect(admin.request("POST", "/clients", json=change.body), (201, 409), f"POST client {change.name}")
    elif change.action == "update-client":
        row_id = change.body["id"]
        admin.expect(admin.request("PUT", f"/clients/{row_id}", json=change.body), 204, f"PUT client {change.name}")
    elif change.action == "create-user":
        admin.expect(admin.request("POST", "/users", json=change.body), (201, 409), f"POST user {change.name}")


def _role_exists(admin: IdpAdmin, name: str) -> bool:
    status = admin.request("GET", f"/roles/{name}").status_code
    return status == 200


def _client_changes(admin: IdpAdmin, desired: Mapping[str, Any]) -> list[Change]:
    found = admin.find("/clients", clientId=desired["clientId"])
    if not found:
        return [Change("create-client", desired["clientId"], desired)]
    current = found[0]
    differs = any(current.get(key) != desired.get(key) for key in _MANAGED_CLIENT_FIELDS if key in desired)
    if not differs:
        return []
    return [Change("update-client", desired["clientId"], {**current, **desired, "id": current["id"]})]


def _clients(facts: InstanceFacts) -> list[dict[str, Any]]:
    web = facts.url("web")
    app = {
        "clientId": catalog.client_id(facts.code),
        "name": f"DIVE V3 {facts.display}",
        "publicClient": False,
        "secret": facts.secrets.get(f"{facts.code}/app-client-secret"),
        "standardFlowEnabled": True,
        "directAccessGrantsEnabled": True,
        "redirectUris": [f"{web}/auth/callback"],  # identity-api-ui §A.1: one exact redirect URI
        "webOrigins": [web],
        "attributes": {"dive.audiences": API_AUDIENCE, "pkce.code.challenge.method": "S256"},
    }
    backend = {
        "clientId": BACKEND_CLIENT,
        "publicClient": False,
        "secret": facts.secrets.get(f"{facts.code}/backend-client-secret"),
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "attributes": {"dive.audiences": API_AUDIENCE},
    }
    return [app, backend]


def _user(facts: InstanceFacts, account: AccountSpec) -> dict[str, Any]:
    credentials: list[dict[str, Any]] = [
        {"type": "password", "value": facts.secrets.get(account.password_secret), "temporary": False}
    ]
    if account.needs_totp:
        secret = facts.secrets.get(f"{facts.code}/totp/{account.username}")
        credentials.append({"type": "otp", "secretData": {"value": secret}})
    return {
        "username": account.username,
        "enabled": True,
        "email": f"{account.username}@{facts.code}.dive.example",
        "emailVerified": True,
        "attributes": {
            "uniqueID": [account.unique_id],
            "clearance": [account.clearance],
            "countryOfAffiliation": [account.country],
            "acpCOI": list(account.acp_coi),
            "organizationType": [account.organization_type],
        },
        "credentials": credentials,
        "realmRoles": list(account.roles),
    }
