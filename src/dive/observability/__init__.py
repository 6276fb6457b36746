"""Logging and request context shared by every service."""

from __future__ import annotations

from dive.observability.context import (
    REQUEST_ID_HEADER,
    current_request_id,
    is_valid_request_id,
    new_request_id,
    request_id_var,
)
from dive.observability.logging import REDACTED, JsonFormatter, configure_logging

__all__ = [
    "REDACTED",
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "configure_logging",
    "current_request_id",
    "is_valid_request_id",
    "new_request_id",
    "request_id_var",
]
