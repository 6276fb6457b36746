"""Health routes: `/health`, `/health/live`, `/health/ready` (identity-api-ui §A.11, orchestration §3.4).

Checks run in parallel, each bounded by a timeout; one failing check makes the answer 503 `DOWN`
and names that check. The body follows the MicroProfile shape the idp and the gates expect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["CHECK_TIMEOUT_S", "CheckResult", "HealthExtra", "ReadinessCheck", "add_health_routes", "run_checks"]

ReadinessCheck = Callable[[], Awaitable[None]]
HealthExtra = Callable[[], Mapping[str, object]]
CHECK_TIMEOUT_S: Final = 2.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    name: str
    up: bool
    latency_ms: float
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"name": self.name, "status": "UP" if self.up else "DOWN"}
        body["data"] = {"latencyMs": round(self.latency_ms, 3)}
        if self.error is not None:
            body["error"] = self.error
        return body


async def run_checks(checks: Mapping[str, ReadinessCheck], *, timeout_s: float = CHECK_TIMEOUT_S) -> list[CheckResult]:
    return list(await asyncio.gather(*(_run_check(name, check, timeout_s) for name, check in checks.items())))


async def _run_check(name: str, check: ReadinessCheck, timeout_s: float) -> CheckResult:
    begin = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await check()
    except TimeoutError:
        error = f"timed out after {timeout_s:g} s"
    except Exception as exc:
        # The body is unauthenticated: give the error's code or class, keep the message for the log.
        log.warning("readiness check failed", extra={"check": name, "error": f"{type(exc).__name__}: {exc}"})
        error = getattr(exc, "code", None) or type(exc).__name__
    else:
        return CheckResult(name=name, up=True, latency_ms=(time.perf_counter() - begin) * 1000)
    return CheckResult(name=name, up=False, latency_ms=(time.perf_counter() - begin) * 1000, error=str(error))


def add_health_routes(
    app: FastAPI,
    *,
    prefixes: Sequence[str],
    identity: Mapping[str, object],
    checks: Mapping[str, ReadinessCheck],
    extra: HealthExtra | None,
) -> None:
    started = time.monotonic()

    async def health(request: Request) -> JSONResponse:
        results = await run_checks(checks)
        up = all(result.up for result in results)
        body: dict[str, object] = {
            "status": "UP" if up else "DOWN",
            **identity,
            "uptimeSeconds": round(time.monotonic() - started, 3),
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "checks": [result.as_json() for result in results],
        }
        if extra is not None:
            body.update(extra())
        return JSONResponse(body, status_code=200 if up else 503)

    async def ready(request: Request) -> JSONResponse:
        results = await run_checks(checks)
        up = all(result.up for result in results)
        body = {"status": "UP" if up else "DOWN", "checks": [result.as_json() for result in results]}
        return JSONResponse(body, status_code=200 if up else 503)

    async def live(request: Request) -> JSONResponse:
        return JSONResponse({"status": "UP", "checks": []})

    for prefix in prefixes:
        app.add_route(prefix, health, methods=["GET"], include_in_schema=False)
        app.add_route(f"{prefix}/ready", ready, methods=["GET"], include_in_schema=False)
        app.add_route(f"{prefix}/live", live, methods=["GET"], include_in_schema=False)
