"""Administrative operations shared by the admin REST API, the master-realm bootstrap and realm import:
realms with their defaults and keys, users with credentials and roles, clients with service accounts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from dive.idp.admin.identity_providers import idp_from_rep, validate_mapper
from dive.idp.admin.representations import client_from_rep, user_from_rep, validation_error
from dive.idp.core import IdpCore
from dive.idp.errors import AdminApiError
from dive.idp.model import REALM_DEFAULTS, Client, Realm, User
from dive.idp.passwords import check_password_policy
from dive.idp.repository import new_id

__all__ = [
    "assign_roles",
    "create_client",
    "create_realm",
    "create_user",
    "default_roles",
    "set_password",
    "update_client",
]

REALM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_IMPORT_KEYS = ("users", "clients", "roles", "identityProviders", "identityProviderMappers")


def default_roles(realm: Realm) -> list[str]:
    """Roles every new user receives: `dive-user` in DIVE realms (CONSISTENCY #21), or the realm's `defaultRoles`."""
    configured = realm.representation.get("defaultRoles")
    if isinstance(configured, list):
        return [str(r) for r in configured]
    return ["dive-user"] if realm.name.startswith("dive-v3-broker-") else []


def create_realm(core: IdpCore, rep: Mapping[str, Any]) -> Realm:
    name = rep.get("realm")
    if not isinstance(name, str) or not REALM_NAME.fullmatch(name):
        raise validation_error(f"Invalid realm name {name!r}")
    stored = {k: v for k, v in rep.items() if k not in _IMPORT_KEYS and k != "id"}
    stored["attributes"] = {**REALM_DEFAULTS["attributes"], **(rep.get("attributes") or {})}
    realm = core.directory.create_realm(name, stored, core.now())
    core.keys.ensure(realm, core.now())
    for role in default_roles(realm):
        core.directory.create_role(realm.id, role)
    _import(core, realm, rep)
    return realm


def _import(core: IdpCore, realm: Realm, rep: Mapping[str, Any]) -> None:
    for role in (rep.get("roles") or {}).get("realm") or []:
        if core.directory.role(realm.id, role.get("name", "")) is None:
            core.directory.create_role(realm.id, str(role["name"]), role.get("description"))
    for client in rep.get("clients") or []:
        create_client(core, realm, client)
    for user in rep.get("users") or []:
        create_user(core, realm, user)
    for idp in rep.get("identityProviders") or []:
        core.directory.create_idp(realm.id, idp_from_rep(idp, base=None), visible_at=core.change_visible_from())
    for mapper in rep.get("identityProviderMappers") or []:
        alias = str(mapper.get("identityProviderAlias", ""))
        if core.directory.idp(realm.id, alias) is None:
            raise validation_error(f"mapper {mapper.get('name')!r} names unknown identity provider {alias!r}")
        core.directory.add_mapper(realm.id, alias, validate_mapper(mapper))


def create_user(core: IdpCore, realm: Realm, rep: Mapping[str, Any]) -> User:
    """POST /users: the representation, `credentials` (password, Keycloak-export otp) and `realmRoles`."""
    user = user_from_rep(rep, realm_id=realm.id, base=None, now_ms=core.now_ms())
    credentials = list(rep.get("credentials") or [])
    passwords = [c for c in credentials if c.get("type") == "password"]
    for credential in passwords:  # validate before anything is written
        _check_policy(core, realm, user, str(credential.get("value") or ""))
    core.directory.create_user(user)
    for credential in passwords:
        core.directory.set_password(user.id, core.hasher.hash(str(credential["value"])), now_ms=core.now_ms(),
                                    temporary=bool(credential.get("temporary")))  # fmt: skip
    for credential in credentials:
        if credential.get("type") == "otp":
            core.directory.set_otp(user.id, _otp_secret(credential), now_ms=core.now_ms())
    roles = [*default_roles(realm), *(str(r) for r in rep.get("realmRoles") or [])]
    assign_roles(core, realm, user, roles)
    return user


def _otp_secret(credential: Mapping[str, Any]) -> str:
    secret_data = credential.get("secretData")
    if isinstance(secret_data, str):  # Keycloak exports carry it as a JSON string
        secret_data = json.loads(secret_data)
    value = (secret_data or {}).get("value") if isinstance(secret_data, Mapping) else None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z2-7]{16,}=*", value):
        raise validation_error("otp credential needs secretData.value as base32")
    return value.rstrip("=")


def assign_roles(core: IdpCore, realm: Realm, user: User, names: Sequence[str]) -> None:
    ids = []
    for name in dict.fromkeys(names):
        role = core.directory.role(realm.id, name)
        if role is None:
            raise AdminApiError(404, {"error": f"Role {name} not found"}, "not_found")
        ids.append(role["id"])
    core.directory.assign_roles(user.id, ids)


def set_password(core: IdpCore, realm: Realm, user: User, password: str, *, temporary: bool) -> None:
    _check_policy(core, realm, user, password)
    core.directory.set_password(user.id, core.hasher.hash(password), now_ms=core.now_ms(), temporary=temporary)
    actions = [a for a in user.required_actions if a != "UPDATE_PASSWORD"] + (["UPDATE_PASSWORD"] if temporary else [])
    if tuple(actions) != user.required_actions:
        core.directory.update_user(replace(user, required_actions=tuple(actions)))


def _check_policy(core: IdpCore, realm: Realm, user: User, password: str) -> None:
    """An empty `passwordPolicy` (the master realm, as in Keycloak) disables the policy; any other value
    means the DIVE policy of §A.1, which is the only one this idp implements."""
    if not realm.setting("passwordPolicy"):
        return
    violation = check_password_policy(password, username=user.username, email=user.email,
                                      previous_hashes=core.directory.password_history(user.id),
                                      hasher=core.hasher)  # fmt: skip
    if violation is not None:
        raise violation.as_admin_error()


def create_client(core: IdpCore, realm: Realm, rep: Mapping[str, Any]) -> Client:
    client = client_from_rep(rep, realm_id=realm.id, base=None)
    core.directory.create_client(client, visible_at=core.change_visible_from())
    _ensure_service_account(core, realm, client)
    return client


def update_client(core: IdpCore, realm: Realm, base: Client, rep: Mapping[str, Any]) -> Client:
    client = client_from_rep(rep, realm_id=realm.id, base=base)
    core.directory.update_client(client, visible_at=core.change_visible_from())
    _ensure_service_account(core, realm, client)
    return client


def _ensure_service_account(core: IdpCore, realm: Realm, client: Client) -> None:
    if not client.flag("serviceAccountsEnabled") or core.directory.service_account(realm.id, client.id):
        return
    user = User(id=new_id(), realm_id=realm.id, username=f"service-account-{client.client_id}".lower(),
                created_ms=core.now_ms())  # fmt: skip
    core.directory.create_user(user, service_account_of=client.id)
    assign_roles(core, realm, user, default_roles(realm))
