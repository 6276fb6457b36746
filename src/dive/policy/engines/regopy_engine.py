"""The embedded engine: regopy (rego-cpp) behind `PolicyEngine`, guarded so that no input can crash or hang it.

Interpreters are not thread-safe, so each thread owns a worker (interpreter plus prepared queries), rebuilt when the
bundle or data changes. Every query runs as a prepared bundle: the decision and label queries are built with the
worker, any other path on first use and kept in a small LRU, because compiling a query costs ~200 ms.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from regopy import Bundle, Interpreter
from regopy import rego_shared as rs

from dive.policy.bundle import POLICY_VERSION, PolicyBundle, build_data, compute_revision
from dive.policy.engine import DECISION_PATH, LABEL_CHECK_PATH, Decision, LabelCheck, QueryResult
from dive.policy.engines.regopy_wire import encode_input, parse_binding
from dive.policy.errors import PolicyBundleError, PolicyQueryError

__all__ = ["MAX_PREPARED_PATHS", "RegopyEngine"]

_PATH_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")
_EXTRA_PREFIX: Final = "extra/"
_PINNED_PATHS: Final = (DECISION_PATH, LABEL_CHECK_PATH)
MAX_PREPARED_PATHS: Final = 32  # other data paths kept prepared per worker, least recently used evicted


def _assignment(path: str) -> str:
    """`dive/authz/decision` → `x := data["dive"]["authz"]["decision"]`. A bare reference to `false` comes back
    undefined in regopy, so every query is an assignment (§1.6)."""
    segments = [segment for segment in path.strip("/").split("/") if segment]
    if not all(_PATH_SEGMENT.fullmatch(segment) for segment in segments):
        raise PolicyQueryError(f"the data path {path!r} has a segment outside [A-Za-z0-9_-]")
    return "x := data" + "".join(f'["{segment}"]' for segment in segments)


@dataclass(frozen=True)
class _Snapshot:
    generation: int
    modules: Mapping[str, str]
    data_json: str
    revision: str


class _Worker:
    """One thread's interpreter with the decision and label queries prepared."""

    def __init__(self, snapshot: _Snapshot) -> None:
        self.generation = snapshot.generation
        self._interpreter = Interpreter()
        try:
            for name, source in snapshot.modules.items():
                self._interpreter.add_module(name, source)
            self._interpreter.add_data_json(snapshot.data_json)
            # A prepared bundle skips compiling the policy on every decision.
            self._pinned: dict[str, Bundle] = {path: self._build(path) for path in _PINNED_PATHS}
        except rs.RegoError as exc:
            raise PolicyBundleError(f"the policy bundle does not compile: {exc}") from exc
        self._recent: OrderedDict[str, Bundle] = OrderedDict()

    def _build(self, path: str) -> Bundle:
        return self._interpreter.build(_assignment(path), [])

    def prepared(self, path: str) -> Bundle:
        """The prepared query for `path`, built on first use; at most MAX_PREPARED_PATHS besides the pinned ones."""
        bundle = self._pinned.get(path) or self._recent.get(path)
        if bundle is None:
            bundle = self._recent[path] = self._build(path)
            if len(self._recent) > MAX_PREPARED_PATHS:
                self._recent.popitem(last=False)
        elif path in self._recent:
            self._recent.move_to_end(path)
        return bundle

    def evaluate(self, path: str, input_json: str) -> QueryResult:
        try:
            prepared = self.prepared(path)
            self._interpreter.set_input_term(input_json)
            pointer = rs.rego_bundle_query(self._interpreter._impl, prepared._impl)
            try:
                ok, output = rs.rego_output_ok(pointer), rs.rego_output_string(pointer)
            finally:
                rs.rego_free_output(pointer)
        except rs.RegoError as exc:
            raise PolicyQueryError(f"the policy query for {path} failed: {exc}") from exc
        if not ok:
            raise PolicyQueryError(f"the policy query for {path} failed: {output}")
        try:
            defined, value = parse_binding(output, "x")
        except ValueError as exc:
            raise PolicyQueryError(f"the policy output for {path} is not JSON: {exc}") from exc
        return QueryResult(defined, value)


class RegopyEngine:
    def __init__(
        self,
        bundle: PolicyBundle | None = None,
        data: Mapping[str, object] | None = None,
        extra_modules: Mapping[str, str] | None = None,
    ) -> None:
        self._bundle = bundle or PolicyBundle.load()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generation = 0
        self._data: Mapping[str, object] = data if data is not None else build_data(self._bundle.static_data)
        self._extra: Mapping[str, str] = dict(extra_modules or {})
        self._snapshot = self._install(self._data, self._extra)

    def _install(self, data: Mapping[str, object], extra_modules: Mapping[str, str]) -> _Snapshot:
        modules = {**self._bundle.modules, **{_EXTRA_PREFIX + name: src for name, src in extra_modules.items()}}
        revision = compute_revision(modules, data)
        dive = {**data, "policy": {"version": POLICY_VERSION, "revision": revision}}
        self._generation += 1
        snapshot = _Snapshot(self._generation, modules, json.dumps({"dive": dive}, ensure_ascii=False), revision)
        self._local.worker = _Worker(snapshot)  # compile now, so a broken bundle fails the reload, not a request
        return snapshot

    def reload(self, data: Mapping[str, object] | None = None, extra_modules: Mapping[str, str] | None = None) -> None:
        """Replace `data.dive` (without `policy`) and/or the extra modules; other threads pick it up lazily."""
        with self._lock:
            new_data = self._data if data is None else data
            new_extra = self._extra if extra_modules is None else dict(extra_modules)
            self._snapshot = self._install(new_data, new_extra)
            self._data, self._extra = new_data, new_extra

    def revision(self) -> str:
        return self._snapshot.revision

    def _worker(self) -> _Worker:
        snapshot = self._snapshot
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None or worker.generation != snapshot.generation:
            worker = self._local.worker = _Worker(snapshot)
        return worker

    def query(self, path: str, input: object | None = None) -> QueryResult:
        return self._worker().evaluate(path, encode_input({} if input is None else input))

    def decide(self, input: Mapping[str, object]) -> Decision:
        result = self.query(DECISION_PATH, input)
        if not result.defined:
            raise PolicyQueryError("the policy left data.dive.authz.decision undefined")
        return Decision.from_result(result.value)

    def decide_many(self, inputs: Sequence[Mapping[str, object]]) -> list[Decision]:
        return [self.decide(item) for item in inputs]

    def check_label(self, resource: Mapping[str, object], strict: bool) -> LabelCheck:
        result = self.query(LABEL_CHECK_PATH, {"resource": resource, "strict": strict})
        if not result.defined:
            raise PolicyQueryError("the policy left data.dive.labels.check undefined")
        return LabelCheck.from_result(result.value)
