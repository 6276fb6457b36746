"""Keycloak representations ↔ the core types. Unknown fields are kept and echoed (§A.9 round-trip safety)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from dive.idp.errors import AdminApiError
from dive.idp.model import Client, User
from dive.idp.repository import new_id

__all__ = ["client_from_rep", "client_to_rep", "user_from_rep", "user_to_rep", "validation_error"]

_USER_FIELDS = {"id", "username", "enabled", "emailVerified", "email", "firstName", "lastName", "attributes",
                "createdTimestamp", "requiredActions", "totp", "credentials", "realmRoles", "access",
                "federationLink", "userProfileMetadata", "disableableCredentialTypes", "notBefore"}  # fmt: skip
_CLIENT_DEFAULTS: Mapping[str, Any] = {
    "enabled": True,
    "publicClient": False,
    "protocol": "openid-connect",
    "redirectUris": [],
    "webOrigins": [],
    "standardFlowEnabled": True,
    "directAccessGrantsEnabled": False,
    "serviceAccountsEnabled": False,
    "attributes": {},
}


def validation_error(message: str) -> AdminApiError:
    return AdminApiError(400, {"errorMessage": message}, code="validation_failed")


def _attributes(raw: Any) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise validation_error("attributes must be an object of lists of strings")
    result: dict[str, list[str]] = {}
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        result[str(name)] = [str(v) for v in values if v is not None]
    return result


def user_from_rep(rep: Mapping[str, Any], *, realm_id: str, base: User | None, now_ms: int) -> User:
    """Build a user from a representation; on update (`base`), absent fields keep their value."""
    username = rep.get("username", base.username if base else None)
    if not isinstance(username, str) or not username.strip():
        raise validation_error("User name is missing")

    extra = {k: v for k, v in rep.items() if k not in _USER_FIELDS}
    return User(
        id=base.id if base else new_id(),
        realm_id=realm_id,
        username=username.strip().lower(),
        enabled=bool(rep.get("enabled", base.enabled if base else True)),
        email=rep.get("email", base.email if base else None) or None,
        email_verified=bool(rep.get("emailVerified", base.email_verified if base else False)),
        first_name=rep.get("firstName", base.first_name if base else None),
        last_name=rep.get("lastName", base.last_name if base else None),
        attributes=_attributes(rep["attributes"]) if "attributes" in rep else dict(base.attributes if base else {}),
        required_actions=tuple(rep.get("requiredActions", list(base.required_actions) if base else [])),
        created_ms=base.created_ms if base else now_ms,
        extra={**(base.extra if base else {}), **extra},
    )


def user_to_rep(user: User, *, has_otp: bool, brief: bool = False) -> dict[str, Any]:
    rep: dict[str, Any] = {
        **user.extra,
        "id": user.id,
        "username": user.username,
        "enabled": user.enabled,
        "emailVerified": user.email_verified,
        "createdTimestamp": user.created_ms,
        "totp": has_otp,
        "requiredActions": list(user.required_actions),
        "disableableCredentialTypes": [],
        "notBefore": 0,
        "access": {"manage": True, "view": True, "mapRoles": True, "impersonate": False, "manageGroupMembership": True},
    }
    for key, value in (("email", user.email), ("firstName", user.first_name), ("lastName", user.last_name)):
        if value is not None:
            rep[key] = value
    if not brief:
        rep["attributes"] = {k: list(v) for k, v in user.attributes.items()}
    return rep


def client_from_rep(rep: Mapping[str, Any], *, realm_id: str, base: Client | None) -> Client:
    merged: dict[str, Any] = {**_CLIENT_DEFAULTS, **(base.representation if base else {}), **rep}
    client_id = merged.get("clientId")
    if not isinstance(client_id, str) or not client_id:
        raise validation_error("clientId is missing")
    merged.pop("secret", None)
    merged.pop("id", None)
    merged["attributes"] = {str(k): str(v) for k, v in (merged.get("attributes") or {}).items()}
    secret: str | None = None
    if not merged.get("publicClient"):
        given = rep.get("secret")
        secret = given if isinstance(given, str) and given else (base.secret if base else None)
        secret = secret or secrets.token_urlsafe(32)
    return Client(id=base.id if base else new_id(), realm_id=realm_id, client_id=client_id, secret=secret,
                  representation=merged)  # fmt: skip


def client_to_rep(client: Client) -> dict[str, Any]:
    rep = {**client.representation, "id": client.id, "clientId": client.client_id}
    if client.secret is not None:
        rep["secret"] = client.secret
    return rep
