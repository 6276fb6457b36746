"""Helpers every route module uses: the runtime, the caller's address and request id, query-string folding."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

from dive.api.runtime import ApiRuntime

__all__ = ["folded_params", "request_id", "requested_by", "runtime"]


def runtime(request: Request) -> ApiRuntime:
    return request.app.state.api  # type: ignore[no-any-return]


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def requested_by(request: Request) -> str | None:
    return request.client.host if request.client else None


def folded_params(request: Request) -> Mapping[str, list[str]]:
    """Query parameters with `x[]=` accepted as `x=` (§B.5.1)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name.removesuffix("[]"), []).append(value)
    return params
