"""The threads a service evaluates policy in. regopy releases the GIL while it evaluates, but every thread compiles
its own interpreter: a small fixed pool, compiled before the first request, beats a shared pool of cold threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from dive.policy.engine import PolicyEngine

__all__ = ["EnginePool"]

T = TypeVar("T")

WARM_UP_TIMEOUT_S = 120


class EnginePool:
    def __init__(self, engine: PolicyEngine, *, threads: int, name: str) -> None:
        self._engine, self._threads = engine, threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    def warm_up(self) -> None:
        """Decide once in every pool thread (blocking), so no request pays an interpreter's compilation."""
        barrier = threading.Barrier(self._threads, timeout=WARM_UP_TIMEOUT_S)

        def compile_here() -> None:
            barrier.wait()  # holds each task in its own thread until all threads exist
            self._engine.decide({})

        for future in [self._executor.submit(compile_here) for _ in range(self._threads)]:
            future.result()

    async def run(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
