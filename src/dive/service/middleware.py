"""The outermost request middleware: request id, body limit, metrics, one log line, and the last-resort 500.

Pure ASGI rather than `BaseHTTPMiddleware`: the pdp must answer ≥ 1,500 requests/s on two cores, and a
task per request plus a streamed response body per middleware would cost a large share of that.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from starlette.responses import JSONResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dive.observability.context import is_valid_request_id, new_request_id, request_id_var
from dive.service.errors import PayloadTooLargeError
from dive.service.metrics import ServiceMetrics
from dive.service.responses import error_response

__all__ = ["DEFAULT_MAX_BODY_BYTES", "RequestContextMiddleware"]

DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
_HEADER: Final = b"x-request-id"

access_log = logging.getLogger("dive.access")
log = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, router: Router, metrics: ServiceMetrics, max_body_bytes: int | None) -> None:
        self.app, self.router, self.metrics, self.max_body_bytes = app, router, metrics, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        status, started = 500, False
        header = (_HEADER, request_id.encode("ascii"))

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message["headers"] = [*(h for h in message.get("headers", ()) if h[0].lower() != _HEADER), header]
            await send(message)

        begin = time.perf_counter()
        try:
            await self._call_limited(scope, receive, send_with_request_id, request_id)
        except Exception:
            # The one `except Exception` of a service: answer 500 with the request id, log the traceback.
            log.exception("unhandled error", extra={"method": scope["method"], "path": scope["path"]})
            if started:
                raise
            response = error_response(
                request_id, "internal_error", "Internal error; quote the request id to an operator.", status=500
            )
            await response(scope, receive, send_with_request_id)
        finally:
            self._record(scope, status, time.perf_counter() - begin)
            request_id_var.reset(token)

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        limit = self.max_body_bytes
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, request_id)(scope, receive, send)
            return
        received, exceeded, answered = 0, False, False

        async def receive_limited() -> Message:
            nonlocal received, exceeded
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                exceeded = True
                raise PayloadTooLargeError(limit)
            return message

        async def send_unless_exceeded(message: Message) -> None:
            # FastAPI turns any error while reading the body into 400; whatever the app answers after the
            # limit was hit is replaced by our 413.
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _too_large(limit, request_id)(scope, receive, send)

        try:
            await self.app(scope, receive_limited, send_unless_exceeded)
        except PayloadTooLargeError:
            if not exceeded:
                raise
        if exceeded and not answered:
            await _too_large(limit, request_id)(scope, receive, send)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope, self.router)
        self.metrics.observe_request(scope["method"], route, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            # The query string is left out on purpose: it may carry a code, a state or a token.
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )


def _route_template(scope: Scope, router: Router) -> str | None:
    """The matched route's template, never the raw path (§D.1); None when no route matched."""
    route = scope.get("route")
    if route is None:
        # FastAPI records only its own APIRoutes in the scope; match plain Starlette routes again.
        route = next((r for r in router.routes if r.matches(scope)[0] is not Match.NONE), None)
    return getattr(route, "path", None)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            text = value.decode("latin-1")
            return text if is_valid_request_id(text) else None
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int, request_id: str) -> JSONResponse:
    error = PayloadTooLargeError(limit)
    return error_response(request_id, error.code, error.message, status=error.status, details=error.details)
