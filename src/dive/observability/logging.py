"""Structured logs: one JSON object per line on stdout (identity-api-ui §0.3).

Fields: `ts`, `level`, `service`, `instance`, `request_id`, `logger`, `msg`, then the record's `extra`
fields. Extra fields whose names say they hold a credential are masked, as a last line of defence:
callers must not pass secrets in the first place.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Final, TextIO

from dive.observability.context import current_request_id

__all__ = ["REDACTED", "JsonFormatter", "configure_logging"]

REDACTED: Final = "[redacted]"
_SECRET_FIELD = re.compile(r"token|password|passwd|secret|authorization|cookie|private_key|data_key|plaintext", re.I)
_URL_LOGGERS: Final = ("httpx", "httpcore")
_RECORD_FIELDS: Final = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)


class JsonFormatter(logging.Formatter):
    def __init__(self, *, service: str, instance: str) -> None:
        super().__init__()
        self.service, self.instance = service, instance.upper()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "instance": self.instance,
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = REDACTED if _SECRET_FIELD.search(key) else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(*, service: str, instance: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger (uvicorn's included) to one JSON handler on stdout; replaces earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(service=service, instance=instance))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in _URL_LOGGERS:  # they log full URLs at INFO, query strings (codes, tokens) included
        logging.getLogger(name).setLevel(logging.WARNING)
