"""What `nuke` removes from the shared servers (spec/orchestration.md §10): database and role `dive_<c>` and the keys
`dive:<c>:*` of each removed instance, and with the hub the `orchestration` database and its read-only role. Only the
instances this home knows are touched, so other deployments (and other test runs) on the same servers keep theirs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dive.orchestration.database import ORCHESTRATION_DATABASE
from dive.orchestration.deploy.orchestration_reader import ORCHESTRATION_READER_ROLE
from dive.orchestration.deploy.postgres import database_exists, drop_database, drop_role, role_exists
from dive.orchestration.deploy.redis_keys import delete_instance_keys, has_instance_keys, redis_server_url
from dive.orchestration.errors import PhaseError
from dive.store import StoreError
from dive.store.instance_url import instance_database_name, postgres_server_url

__all__ = ["StoresRemoved", "leftover_stores", "remove_stores"]


@dataclass
class StoresRemoved:
    databases: int = 0
    keys: int = 0
    failures: list[str] = field(default_factory=list)


def remove_stores(environ: Mapping[str, str], codes: Sequence[str], *, orchestration: bool) -> StoresRemoved:
    """Drop the databases and roles of `codes` (and `orchestration`), delete their Redis keys; failures are collected,
    not raised, so that the rest of the nuke still runs and reports them as left behind."""
    removed = StoresRemoved()
    server, cache = postgres_server_url(environ), redis_server_url(environ)
    databases = [instance_database_name(code) for code in codes] + ([ORCHESTRATION_DATABASE] if orchestration else [])
    for name in databases if server else []:
        removed.databases += _attempt(removed, f"database {name}", lambda n=name: drop_database(server, n))
        role = ORCHESTRATION_READER_ROLE if name == ORCHESTRATION_DATABASE else name  # granted there only
        _attempt(removed, f"role {role}", lambda r=role: drop_role(server, r))
    for code in codes if cache else []:
        removed.keys += _attempt(removed, f"Redis keys dive:{code}:*", lambda c=code: delete_instance_keys(cache, c))
    return removed


def leftover_stores(environ: Mapping[str, str], codes: Sequence[str], *, orchestration: bool) -> list[str]:
    """What of `remove_stores`' scope still exists, for nuke's final verification."""
    server, cache = postgres_server_url(environ), redis_server_url(environ)
    remaining: list[str] = []
    if server:
        names = [instance_database_name(code) for code in codes]
        databases = names + ([ORCHESTRATION_DATABASE] if orchestration else [])
        roles = names + ([ORCHESTRATION_READER_ROLE] if orchestration else [])
        try:
            remaining += [f"database {name}" for name in databases if database_exists(server, name)]
            remaining += [f"role {name}" for name in roles if role_exists(server, name)]
        except StoreError as exc:
            remaining.append(f"PostgreSQL not checked: {exc.message}")
    if cache:
        try:
            remaining += [f"Redis keys dive:{code}:*" for code in codes if has_instance_keys(cache, code)]
        except PhaseError as exc:
            remaining.append(f"Redis not checked: {exc.message}")
    return remaining


def _attempt(removed: StoresRemoved, what: str, action: Callable[[], int | bool]) -> int:
    try:
        return int(action())
    except (StoreError, PhaseError) as exc:
        removed.failures.append(f"{what}: {exc.message}")
        return 0
