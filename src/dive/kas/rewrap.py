"""The per-KAO and per-group steps of a rewrap (spec/ztdf-kas.md §8 steps 11–19) after the request passed
authentication and parsing. CPU work (RSA, Rego) runs in worker threads bounded by the crypto limiter.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

from dive.kas.audit import AuditSink
from dive.kas.decision import DecisionContext, GroupDecision, decide_policies
from dive.kas.key_ring import KeyRing
from dive.kas.metrics import KasMetrics
from dive.kas.request import KaoRequest, RewrapBody
from dive.kas.settings import KasSettings
from dive.kas.unwrap import DekCache, UnwrapOutcome, unwrap_kao
from dive.policy.engine import PolicyEngine
from dive.store import DecisionRecord
from dive.tokens import VerifiedToken
from dive.ztdf import wrap_split_key

__all__ = ["RequestContext", "RewrapService"]


@dataclass(frozen=True, kw_only=True)
class RequestContext:
    request_id: str | None
    source_ip: str | None
    user_agent: str | None
    started: float  # perf_counter when the body was received


@dataclass(frozen=True)
class _Slot:
    group: int
    kao: KaoRequest
    policy_body: str


@dataclass(frozen=True)
class _Result:
    slot: _Slot
    outcome: UnwrapOutcome
    decision: GroupDecision | None
    decision_id: str
    json: dict[str, object]
    code: str | None
    reason: str


class RewrapService:
    def __init__(
        self,
        *,
        settings: KasSettings,
        ring: Callable[[], KeyRing],
        engine: PolicyEngine,
        cache: DekCache,
        metrics: KasMetrics,
        audit: AuditSink,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        self._settings, self._ring, self._engine, self._cache = settings, ring, engine, cache
        self._metrics, self._audit, self._limiter = metrics, audit, limiter

    async def rewrap(self, body: RewrapBody, token: VerifiedToken, ctx: RequestContext) -> dict[str, object]:
        slots = [_Slot(g, kao, group.policy_body) for g, group in enumerate(body.groups) for kao in group.kaos]
        outcomes = await self._unwrap_all(slots)
        needed = [slot.policy_body for slot, outcome in zip(slots, outcomes, strict=True) if outcome.split_key]
        decisions = await self._decide(needed, token, ctx)
        results = [
            self._result(slot, o, decisions.get(slot.policy_body), body)
            for slot, o in zip(slots, outcomes, strict=True)
        ]
        latency_ms = (time.perf_counter() - ctx.started) * 1000
        await self._audit.submit([self._record(r, body, token, ctx, latency_ms) for r in results])
        self._observe(results, outcomes)
        return _response(body, results)

    async def _unwrap_all(self, slots: Sequence[_Slot]) -> list[UnwrapOutcome]:
        ring, parts = self._ring(), max(1, min(self._settings.crypto_threads, len(slots)))
        chunks = [list(range(i, len(slots), parts)) for i in range(parts)]
        outcomes: list[UnwrapOutcome | None] = [None] * len(slots)

        def run(indexes: list[int]) -> None:
            for i in indexes:
                outcomes[i] = unwrap_kao(
                    slots[i].kao,
                    slots[i].policy_body,
                    ring,
                    self._cache,
                    max_wrapped_bytes=self._settings.max_wrapped_key_bytes,
                    kidless_limit=self._settings.max_kidless_attempts,
                )

        async with anyio.create_task_group() as group:
            for chunk in chunks:
                group.start_soon(lambda c=chunk: anyio.to_thread.run_sync(run, c, limiter=self._limiter))
        return [outcome for outcome in outcomes if outcome is not None]

    async def _decide(
        self, bodies: Sequence[str], token: VerifiedToken, ctx: RequestContext
    ) -> Mapping[str, GroupDecision]:
        if not bodies:
            return {}
        context = DecisionContext(
            claims=token.claims,
            tenant=self._settings.instance_code,
            now=datetime.now(UTC),
            request_id=ctx.request_id,
            source_ip=ctx.source_ip,
            namespaces=self._settings.accepted_namespaces,
            allow_unlabelled=self._settings.allow_unlabelled_policies,
        )
        decisions, seconds = await anyio.to_thread.run_sync(
            decide_policies, bodies, self._engine, context, limiter=self._limiter
        )
        self._metrics.decision_seconds.observe(seconds)
        for decision in decisions.values():
            if decision.input is not None:
                self._metrics.count_decision(decision.allow, decision.reason_code, seconds / max(1, len(decisions)))
        return decisions

    def _result(self, slot: _Slot, outcome: UnwrapOutcome, decision: GroupDecision | None, body: RewrapBody) -> _Result:
        decision_id = str(uuid.uuid4())
        entry: dict[str, object] = {"keyAccessObjectId": slot.kao.kao_id}
        metadata: dict[str, object] = {"kid": outcome.kid or slot.kao.kid, "decisionId": decision_id}
        code, reason = outcome.code, outcome.message
        if code is None and decision is not None and not decision.allow:
            code, reason = decision.code, decision.reason
            if decision.checks is not None:
                metadata["checks"] = dict(decision.checks)
        if code is None and outcome.split_key is not None:
            try:
                entry["kasWrappedKey"] = wrap_split_key(body.client_public_key, bytes(outcome.split_key))
                entry["status"] = "permit"
            except ValueError:
                code, reason = "rewrap_failed", "the key could not be wrapped to the client key"
            finally:
                outcome.split_key[:] = bytes(len(outcome.split_key))  # best effort: drop the split key
        if code is not None:
            entry |= {"status": "fail", "error": f"{code}: {reason}"}
            metadata |= {"errorCode": code, "reason": reason}
        entry["metadata"] = metadata
        if code is None and decision is not None:
            reason = decision.reason
        return _Result(slot, outcome, decision, decision_id, entry, code, reason)

    def _record(
        self, result: _Result, body: RewrapBody, token: VerifiedToken, ctx: RequestContext, latency_ms: float
    ) -> DecisionRecord:
        decision, code = result.decision, result.code
        group = body.groups[result.slot.group]
        decision_input = (
            decision.input if decision is not None and decision.input is not None else _minimal_input(token)
        )
        raw = _wrapped_digest(result.slot.kao.wrapped_key)
        return DecisionRecord(
            decision_id=result.decision_id,
            timestamp=datetime.now(UTC),
            path="dive/authz/decision",
            labels={"instance": self._settings.instance_code, "service": "kas"},
            input=decision_input,
            result={
                "allow": code is None,
                "reason": result.reason,
                "reason_code": decision.reason_code
                if decision is not None and code in (None, "policy_denied")
                else code,
                "code": code,
                "checks": dict(decision.checks) if decision is not None and decision.checks is not None else None,
            },
            policy_revision=decision.revision if decision is not None else None,
            requested_by=ctx.source_ip,
            request_id=ctx.request_id,
            latency_ms=round(latency_ms, 3),
            kas={
                "kas_id": self._settings.kas_id,
                "policy_id": group.policy_id,
                "policy_uuid": decision.policy_uuid if decision is not None else None,
                "key_access_object_id": result.slot.kao.kao_id,
                "kid": result.outcome.kid or result.slot.kao.kid,
                "sid": result.slot.kao.sid,
                "wrapped_key_sha256": raw,
                "url": result.slot.kao.url,
                "via": None,
                "subject": {"iss": token.claims.get("iss"), "sub": token.claims.get("sub")},
                "client": {"ip": ctx.source_ip, "userAgent": ctx.user_agent},
            },
        )

    def _observe(self, results: Sequence[_Result], outcomes: Sequence[UnwrapOutcome]) -> None:
        self._metrics.kaos.observe(len(results))
        for result in results:
            label = "permit" if result.code is None else "deny" if result.code == "policy_denied" else "error"
            self._metrics.count_result(label, result.code)
        for outcome in outcomes:
            if outcome.unwrap_seconds:
                self._metrics.unwrap_seconds.observe(outcome.unwrap_seconds)
            if outcome.cache_hit is not None:
                self._metrics.count_cache(outcome.cache_hit)


def _minimal_input(token: VerifiedToken) -> dict[str, Any]:
    claims = token.claims
    return {
        "subject": {"uniqueID": claims.get("uniqueID", ""), "issuer": claims.get("iss", "")},
        "action": {"operation": "decrypt"},
    }


def _wrapped_digest(wrapped_key: str) -> str:
    """The first 16 hex of SHA-256 of the wrapped key, the only form logs and audit may carry (§10)."""
    return hashlib.sha256(wrapped_key.encode("ascii", "replace")).hexdigest()[:16]


def _response(body: RewrapBody, results: Sequence[_Result]) -> dict[str, object]:
    by_group: dict[int, list[dict[str, object]]] = {}
    for result in results:
        by_group.setdefault(result.slot.group, []).append(result.json)
    responses = [
        {"policyId": group.policy_id, "results": by_group.get(index, [])} for index, group in enumerate(body.groups)
    ]
    answer: dict[str, object] = {"responses": responses}
    if body.legacy:
        first = responses[0]["results"][0]  # type: ignore[index]
        if first.get("status") == "permit":
            answer["entityWrappedKey"] = first["kasWrappedKey"]
        answer["sessionPublicKey"] = ""
    return answer
