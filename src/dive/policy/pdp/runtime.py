"""What a running pdp owns: the engine, the registry feed, extra policy modules, decision logs and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from prometheus_client import CollectorRegistry

from dive.policy.engine import DECISION_PATH, QueryResult
from dive.policy.engine_pool import EnginePool
from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.registry_feed import RegistryFeed, poll
from dive.service.authz_metrics import AuthzMetrics
from dive.service.decision_log import DecisionLogWriter
from dive.store.audit import DecisionRecord

__all__ = ["PdpRuntime", "QueryOutcome", "read_extra_modules"]


log = logging.getLogger(__name__)


def read_extra_modules(directory: Path | None) -> dict[str, str]:
    if directory is None:
        return {}
    paths = sorted(directory.rglob("*.rego"))
    return {path.relative_to(directory).as_posix(): path.read_text("utf-8") for path in paths}


@dataclass(frozen=True)
class QueryOutcome:
    decision_id: str
    result: QueryResult
    eval_ns: int


class PdpRuntime:
    def __init__(
        self,
        *,
        engine: RegopyEngine,
        feed: RegistryFeed,
        decision_log: DecisionLogWriter,
        extra_policy_dir: Path | None,
        instance_code: str,
        registry: CollectorRegistry,
        threads: int,
    ) -> None:
        self.engine, self.feed, self.decision_log = engine, feed, decision_log
        self._pool = EnginePool(engine, threads=threads, name="rego")
        self.instance_code = instance_code
        self._extra_dir = extra_policy_dir
        self._extra_modules = read_extra_modules(extra_policy_dir)
        self._authz = AuthzMetrics(registry, instance_code=instance_code, service="pdp")

    @property
    def extra_modules(self) -> Mapping[str, str]:
        return self._extra_modules

    def refresh(self) -> None:
        """One poll: new registry data and changed extra modules both reload the engine (blocking I/O)."""
        self.feed.refresh()
        modules = read_extra_modules(self._extra_dir)
        if modules != self._extra_modules:
            self.engine.reload(extra_modules=modules)
            self._extra_modules = modules
            log.info("extra policy modules reloaded", extra={"modules": sorted(modules)})

    @contextlib.asynccontextmanager
    async def running(self, interval_s: float) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(self._pool.warm_up)
        self.decision_log.start()
        watcher = asyncio.get_running_loop().create_task(poll(self.refresh, interval_s), name="pdp-policy-watch")
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.decision_log.close()
            self._pool.close()

    async def query(self, path: str, input: object | None) -> QueryOutcome:
        begin = time.perf_counter_ns()
        result = await self._pool.run(self.engine.query, path, input)
        elapsed = time.perf_counter_ns() - begin
        if path == DECISION_PATH and isinstance(result.value, dict):
            self._count_decision(result.value, elapsed)
        return QueryOutcome(uuid.uuid4().hex, result, elapsed)

    def _count_decision(self, decision: Mapping[str, Any], elapsed_ns: int) -> None:
        allow = decision.get("allow") is True
        failed = (decision.get("evaluation_details") or {}).get("failed") or ["error"]
        reason_code = "ok" if allow else str(failed[0])
        self._authz.observe(allow=allow, reason_code=reason_code, seconds=elapsed_ns / 1e9)

    async def log_decision(
        self, outcome: QueryOutcome, *, path: str, input: object, request_id: str | None, client: str | None
    ) -> None:
        value = outcome.result.value if outcome.result.defined else None
        result: dict[str, Any] = {"defined": outcome.result.defined}
        if isinstance(value, dict) and "allow" in value:
            failed = (value.get("evaluation_details") or {}).get("failed") or []
            result.update(allow=value["allow"], reason=value.get("reason"), reason_code=failed[0] if failed else "ok")
        elif isinstance(value, bool):
            result["allow"] = value
        await self.decision_log.record(
            DecisionRecord(
                decision_id=outcome.decision_id,
                timestamp=datetime.now(UTC),
                path=path,
                labels={"instance": self.instance_code, "service": "pdp"},
                input=input if isinstance(input, dict) else {"value": input},
                result=result,
                policy_revision=self.engine.revision(),
                requested_by=client,
                request_id=request_id,
                metrics={"timer_rego_query_eval_ns": outcome.eval_ns},
                latency_ms=outcome.eval_ns / 1e6,
            )
        )
