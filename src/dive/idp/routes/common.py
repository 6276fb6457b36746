"""Helpers shared by the route modules: the core from the app, realm lookup, the client address."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from starlette.requests import Request

from dive.idp.core import IdpCore
from dive.idp.errors import AdminApiError
from dive.idp.model import Realm

__all__ = ["client_ip", "core_of", "find_realm", "in_thread"]

P = ParamSpec("P")
T = TypeVar("T")


def core_of(request: Request) -> IdpCore:
    core: IdpCore = request.app.state.idp
    return core


def find_realm(core: IdpCore, name: str) -> Realm:
    realm = core.directory.realm(name)
    if realm is None or not realm.enabled:
        raise AdminApiError(404, {"error": "Realm does not exist"}, "realm_not_found")
    return realm


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Database and argon2 work is blocking: run it in the worker thread pool (STYLE §5)."""
    return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs))
