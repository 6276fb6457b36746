"""The request id of the request being served, for log lines and downstream calls (identity-api-ui §0.3)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Final

__all__ = ["REQUEST_ID_HEADER", "current_request_id", "is_valid_request_id", "new_request_id", "request_id_var"]

REQUEST_ID_HEADER: Final = "X-Request-ID"
_REQUEST_ID_SYNTAX = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # CONSISTENCY #29

request_id_var: ContextVar[str | None] = ContextVar("dive_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def is_valid_request_id(value: str) -> bool:
    return _REQUEST_ID_SYNTAX.fullmatch(value) is not None


def new_request_id() -> str:
    return str(uuid.uuid4())
