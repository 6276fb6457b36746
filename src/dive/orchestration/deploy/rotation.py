"""Secret rotation (spec/orchestration.md §9.3): a new value, pushed into the idp where it lives there too; the
caller then re-renders and restarts the services that receive it (`secrets load`, §9.4)."""

from __future__ import annotations

from typing import Final

from dive import catalog
from dive.orchestration.deploy.identity import BACKEND_CLIENT
from dive.orchestration.deploy.idp_admin import IdpAdmin
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.postgres import set_role_password
from dive.orchestration.errors import PhaseError, UsageError
from dive.secrets.generation import SHARED_TEST_USER_PASSWORD, SecretSpec, generate
from dive.store import StoreError

__all__ = ["ROTATABLE", "rotate_secret"]

ROTATABLE: Final = (
    "idp-admin-password",
    "app-client-secret",
    "backend-client-secret",
    "web-session-secret",
    "federation-admin-key",
    "admin-user-password",
    "test-user-password",
    "db-password",
)
_NOT_HERE: Final = {
    "data-protection-key": "the data-protection key is not rotatable here (identity-api-ui §0.4 owns it)",
    "kek": "KAS keys rotate with `dive kas rotate` (ztdf-kas §10)",
}


def rotate_secret(facts: InstanceFacts, name: str, *, apply: bool) -> str:
    """Store a new value of `name` (relative to the instance); with `apply`, update the idp's copy. Returns the path."""
    base = name.rsplit("/", 1)[-1]
    if base in _NOT_HERE or name.startswith("kas/"):
        raise UsageError(_NOT_HERE.get(base, _NOT_HERE["kek"]))
    if base not in ROTATABLE:
        raise UsageError(f"secret {name} cannot be rotated; rotatable: {', '.join(ROTATABLE)}")
    spec = _spec(facts, base)
    value = generate(spec)
    if apply and base == "db-password":
        _apply_in_postgres(facts, value)
    elif apply:
        _apply_in_idp(facts, base, value)
    facts.secrets.put(spec.path, value, overwrite=True)
    return spec.path


def _spec(facts: InstanceFacts, base: str) -> SecretSpec:
    if base == "db-password" and facts.postgres_server_url is None:
        raise UsageError("db-password exists only when DIVE_DATABASE_URL names a PostgreSQL server")
    if base == "test-user-password":
        return next(s for s in facts.secret_specs if s.path == SHARED_TEST_USER_PASSWORD)
    return next(s for s in facts.secret_specs if s.path == f"{facts.code}/{base}")


def _apply_in_postgres(facts: InstanceFacts, value: str) -> None:
    try:
        set_role_password(facts, value)
    except StoreError as exc:
        raise PhaseError(exc.code, exc.message, remediation="check DIVE_DATABASE_URL and retry") from exc


def _apply_in_idp(facts: InstanceFacts, base: str, value: str) -> None:
    with IdpAdmin(facts) as admin:
        if base in ("app-client-secret", "backend-client-secret"):
            client_id = catalog.client_id(facts.code) if base == "app-client-secret" else BACKEND_CLIENT
            _set_client_secret(admin, client_id, value)
        elif base == "idp-admin-password":
            _reset_password(admin, "admin", value, realm="master")
        elif base == "admin-user-password":
            _reset_password(admin, f"admin-{facts.code}", value, realm=facts.realm)
        elif base == "test-user-password":
            for account in facts.accounts:
                if account.password_secret == SHARED_TEST_USER_PASSWORD:
                    _reset_password(admin, account.username, value, realm=facts.realm)


def _set_client_secret(admin: IdpAdmin, client_id: str, value: str) -> None:
    [client] = admin.find("/clients", clientId=client_id) or [None]
    if client is None:
        raise PhaseError("idp_admin_failed", f"client {client_id} is missing; redeploy the instance first")
    response = admin.request("PUT", f"/clients/{client['id']}", json={**client, "secret": value})
    admin.expect(response, 204, f"PUT client {client_id}")


def _reset_password(admin: IdpAdmin, username: str, value: str, *, realm: str) -> None:
    base = f"admin/realms/{realm}/users"
    found = admin.request("GET", base, params={"username": username, "exact": "true"})
    admin.expect(found, 200, f"GET user {username}")
    users = found.json()
    if not users:
        raise PhaseError("idp_admin_failed", f"user {username} is missing in realm {realm}")
    body = {"type": "password", "value": value, "temporary": False}
    admin.expect(admin.request("PUT", f"{base}/{users[0]['id']}/reset-password", json=body), 204, "reset-password")
