"""The one JSON error shape of every service (identity-api-ui §0.3) and the handlers that produce it.

`{"error": "<snake_case code>", "message": "<sentence>", "requestId": "…", "details": {…}?}`; never a
stack trace, SQL or a file path.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive.observability.context import REQUEST_ID_HEADER, current_request_id
from dive.service.errors import HttpError

__all__ = ["ERROR_CODES_BY_STATUS", "error_body", "error_response", "install_error_handlers"]

# identity-api-ui §B.1.3, for errors raised without a code of their own (routing, plain HTTPException).
ERROR_CODES_BY_STATUS: Final[Mapping[int, str]] = {
    400: "invalid_request",
    401: "invalid_token",
    403: "access_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
_DEFAULT_MESSAGES: Final[Mapping[int, str]] = {
    404: "No such resource or route.",
    405: "This route does not accept that method; see the Allow header.",
}


def error_body(
    code: str, message: str, request_id: str | None, details: Mapping[str, object] | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "message": message, "requestId": request_id}
    if details is not None:
        body["details"] = dict(details)
    return body


def error_response(
    request_id: str | None,
    code: str,
    message: str,
    *,
    status: int,
    details: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, request_id, details), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HttpError, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None) or current_request_id()


async def _http_error(request: Request, exc: HttpError) -> JSONResponse:
    return error_response(
        _request_id(request), exc.code, exc.message, status=exc.status, details=exc.details, headers=exc.headers
    )


async def _http_exception(request: Request, exc: HTTPException) -> JSONResponse:
    code = ERROR_CODES_BY_STATUS.get(exc.status_code, f"http_{exc.status_code}")
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != REQUEST_ID_HEADER.lower()}
    return error_response(_request_id(request), code, _message(exc), status=exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # The offending input is not echoed: it may be a credential sent in the wrong field.
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "code": error.get("type"),
            "message": error.get("msg"),
        }
        for error in exc.errors()
    ]
    return error_response(
        _request_id(request),
        "invalid_request",
        "The request is malformed; see details.errors.",
        status=400,
        details={"errors": errors},
    )


def _message(exc: HTTPException) -> str:
    """The raiser's sentence, or ours when Starlette filled in the bare status phrase."""
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = f"HTTP {exc.status_code}"
    if isinstance(exc.detail, str) and exc.detail and exc.detail != phrase:
        return exc.detail
    return _DEFAULT_MESSAGES.get(exc.status_code, f"{phrase}.")
