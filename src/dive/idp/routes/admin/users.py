"""`/admin/realms/{r}/users` (§A.9): search with exact Keycloak semantics, CRUD, passwords, credentials,
federated identities, sessions, logout, and the brute-force view (§A.4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.requests import Request

from dive.idp.admin.representations import user_from_rep, user_to_rep, validation_error
from dive.idp.admin.schemas import CredentialRep, UserRep, body
from dive.idp.administration import create_user, set_password
from dive.idp.bruteforce import is_locked
from dive.idp.logins import end_sso_session
from dive.idp.model import User
from dive.idp.repository import UserQuery
from dive.idp.routes.admin.auth import ADMIN, AdminContext, Page, admin_context, created, no_content, not_found, page

__all__ = ["find_user", "router"]

router = APIRouter()
USERS = ADMIN + "/users"


def find_user(ctx: AdminContext, user_id: str) -> User:
    user = ctx.core.directory.user(ctx.realm.id, user_id)
    if user is None:
        raise not_found("User")
    return user


def _query(
    search: str | None = None,
    username: str | None = None,
    email: str | None = None,
    firstName: str | None = None,
    lastName: str | None = None,
    exact: bool = False,
    enabled: bool | None = None,
    q: str | None = None,
) -> UserQuery:
    attributes = dict(part.split(":", 1) for part in (q or "").split() if ":" in part)
    return UserQuery(search=search, username=username, email=email, first_name=firstName, last_name=lastName,
                     exact=exact, enabled=enabled, attributes=attributes or None)  # fmt: skip


@router.get(USERS)
def list_users(
    briefRepresentation: bool = False,
    query: UserQuery = Depends(_query),
    paging: Page = Depends(page),
    ctx: AdminContext = Depends(admin_context),
) -> list[dict[str, Any]]:
    users = ctx.core.directory.search_users(ctx.realm.id, query, first=paging.first, limit=paging.limit)
    return [user_to_rep(u, has_otp=ctx.core.directory.otp(u.id) is not None, brief=briefRepresentation)
            for u in users]  # fmt: skip


@router.get(USERS + "/count")
def count_users(query: UserQuery = Depends(_query), ctx: AdminContext = Depends(admin_context)) -> int:
    return ctx.core.directory.count_users(ctx.realm.id, query)


@router.post(USERS)
def post_user(request: Request, rep: UserRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    user = create_user(ctx.core, ctx.realm, body(rep))
    return created(request, user.id)


@router.get(USERS + "/{user_id}")
def get_user(user_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    user = find_user(ctx, user_id)
    return user_to_rep(user, has_otp=ctx.core.directory.otp(user.id) is not None)


@router.put(USERS + "/{user_id}")
def put_user(user_id: str, rep: UserRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    base = find_user(ctx, user_id)
    updated = user_from_rep(body(rep), realm_id=ctx.realm.id, base=base, now_ms=ctx.core.now_ms())
    if updated.username != base.username and ctx.core.directory.user_by_username(ctx.realm.id, updated.username):
        raise validation_error("User exists with same username")
    ctx.core.directory.update_user(updated)
    if not updated.enabled and base.enabled:
        _end_sessions(ctx, updated)
    return no_content()


@router.delete(USERS + "/{user_id}")
def delete_user(user_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    user = find_user(ctx, user_id)
    _end_sessions(ctx, user)
    ctx.core.directory.delete_user(user.id)
    return no_content()


@router.put(USERS + "/{user_id}/reset-password")
def reset_password(user_id: str, rep: CredentialRep, ctx: AdminContext = Depends(admin_context)) -> Response:
    user = find_user(ctx, user_id)
    value = rep.value
    if (rep.type or "password") != "password" or value is None:
        raise validation_error("A password credential with a value is required")
    set_password(ctx.core, ctx.realm, user, value, temporary=bool(rep.temporary))
    ctx.core.event(ctx.realm, "UPDATE_PASSWORD", user_id=user.id)
    return no_content()


@router.get(USERS + "/{user_id}/credentials")
def list_credentials(user_id: str, ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    return ctx.core.directory.credentials(find_user(ctx, user_id).id)


@router.delete(USERS + "/{user_id}/credentials/{credential_id}")
def delete_credential(user_id: str, credential_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    if not ctx.core.directory.delete_credential(find_user(ctx, user_id).id, credential_id):
        raise not_found("Credential")
    return no_content()


@router.get(USERS + "/{user_id}/federated-identity")
def federated_identities(user_id: str, ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    return ctx.core.directory.federated_identities(find_user(ctx, user_id).id)


@router.get(USERS + "/{user_id}/sessions")
def user_sessions(user_id: str, ctx: AdminContext = Depends(admin_context)) -> list[dict[str, Any]]:
    user = find_user(ctx, user_id)
    return [{"id": s.id, "username": user.username, "userId": user.id,
             "start": int(s.started_at.timestamp() * 1000), "lastAccess": int(s.last_seen_at.timestamp() * 1000)}
            for s in ctx.core.store.user_sessions(user.id)]  # fmt: skip


@router.post(USERS + "/{user_id}/logout")
def logout_user(user_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    _end_sessions(ctx, find_user(ctx, user_id))
    return no_content()


def _end_sessions(ctx: AdminContext, user: User) -> None:
    for session in ctx.core.store.user_sessions(user.id):
        end_sso_session(ctx.core, ctx.realm, session.id)


@router.get(ADMIN + "/attack-detection/brute-force/users/{user_id}")
def brute_force_status(user_id: str, ctx: AdminContext = Depends(admin_context)) -> dict[str, Any]:
    state = ctx.core.store.lockout(find_user(ctx, user_id).id)
    last = int(state.last_failure.timestamp() * 1000) if state.last_failure else 0
    return {"numFailures": state.failures, "disabled": is_locked(state, ctx.core.now()), "lastFailure": last,
            "lastIPFailure": state.last_ip or "n/a"}  # fmt: skip


@router.delete(ADMIN + "/attack-detection/brute-force/users/{user_id}")
def brute_force_reset(user_id: str, ctx: AdminContext = Depends(admin_context)) -> Response:
    ctx.core.store.clear_lockout(find_user(ctx, user_id).id)
    return no_content()
