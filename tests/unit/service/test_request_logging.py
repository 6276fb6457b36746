"""Structured logs: one JSON line per request with the request id; credentials never appear."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dive.observability import REDACTED, configure_logging, request_id_var
from dive.service import create_service_app, load_service_settings


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_httpx_level = logging.getLogger("httpx").level
    stream = io.StringIO()
    configure_logging(service="kas", instance="deu", level="INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.getLogger("httpx").setLevel(saved_httpx_level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.anyio
async def test_each_request_logs_one_json_line_without_query_string(dive_home: Path, log_stream: io.StringIO) -> None:
    app = create_service_app(load_service_settings("kas", "deu", {"DIVE_HOME": str(dive_home)}), title="t", version="1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        await http.get("/health/live?code=auth-code-123", headers={"X-Request-ID": "req-log-0001"})
    [line] = [entry for entry in _lines(log_stream) if entry["logger"] == "dive.access"]
    assert line["request_id"] == "req-log-0001"
    assert (line["service"], line["instance"], line["level"], line["msg"]) == ("kas", "DEU", "info", "request")
    assert (line["method"], line["path"], line["route"], line["status"]) == ("GET", "/health/live", "/health/live", 200)
    assert isinstance(line["duration_ms"], float)
    assert "auth-code-123" not in log_stream.getvalue()


def test_log_lines_take_the_request_id_from_the_context(log_stream: io.StringIO) -> None:
    token = request_id_var.set("ctx-req-0001")
    try:
        logging.getLogger("dive.test").info("decided", extra={"outcome": "deny"})
    finally:
        request_id_var.reset(token)
    [line] = _lines(log_stream)
    assert (line["request_id"], line["outcome"], line["msg"]) == ("ctx-req-0001", "deny", "decided")


def test_fields_named_like_credentials_are_redacted(log_stream: io.StringIO) -> None:
    logging.getLogger("dive.test").info(
        "oops", extra={"access_token": "eyJhbGciOi", "client_secret": "s3", "kid": "k1"}
    )
    [line] = _lines(log_stream)
    assert (line["access_token"], line["client_secret"], line["kid"]) == (REDACTED, REDACTED, "k1")
    assert "eyJhbGciOi" not in log_stream.getvalue()


def test_exceptions_are_logged_with_their_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("bad bundle")
    except ValueError:
        logging.getLogger("dive.test").exception("failed")
    [line] = _lines(log_stream)
    assert line["level"] == "error" and "ValueError: bad bundle" in str(line["exc"])
