"""The policy enforcement point (identity-api-ui §B.3; abac §1, §8): inputs from verified claims only, decisions
through the cached engine in a small dedicated thread pool, one audit record per decision (§B.8).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from dive.api.auth import Principal
from dive.api.checklist import decision_object, reason_code
from dive.api.errors import UnavailableError
from dive.policy import Decision, LabelCheck, PolicyEngine, PolicyError
from dive.policy.engine_pool import EnginePool
from dive.policy.pep_input import build_context, build_resource, build_subject
from dive.service.decision_log import DecisionLogWriter
from dive.store import DecisionRecord
from dive.store.models.resources import Resource

__all__ = ["DecisionOutcome", "Pep"]

DECISION_PATH: Final = "dive/authz/decision"
LIST_PATH: Final = "dive/authz/list"
_SUBJECT_AUDIT_FIELDS: Final = ("uniqueID", "issuer", "clearance", "countryOfAffiliation", "acpCOI", "organizationType")
_RESOURCE_AUDIT_FIELDS: Final = ("resourceId", "classification", "releasabilityTo", "COI", "coiOperator", "caveats")


@dataclass(frozen=True)
class DecisionOutcome:
    decision: Decision
    input: Mapping[str, Any]
    decision_id: str
    evaluated_at: datetime

    @property
    def allow(self) -> bool:
        return self.decision.allow

    def as_json(self) -> dict[str, object]:
        return decision_object(self.decision, self.input, decision_id=self.decision_id, evaluated_at=self.evaluated_at)


class Pep:
    def __init__(self, *, engine: PolicyEngine, threads: int, audit: DecisionLogWriter, instance_code: str) -> None:
        self._engine, self._audit, self._code = engine, audit, instance_code
        self._pool = EnginePool(engine, threads=threads, name="pep")

    def warm_up(self) -> None:
        self._pool.warm_up()

    def close(self) -> None:
        self._pool.close()

    @property
    def engine(self) -> PolicyEngine:
        return self._engine

    def read_input(
        self, principal: Principal, resource: Resource, *, now: datetime, request_id: str | None
    ) -> dict[str, object]:
        """The `read` input of a stored document (abac §1.2, CONSISTENCY #12); the explanation replays it."""
        return self.input_from(principal, build_resource(resource), "read", now, request_id)

    def input_from(
        self,
        principal: Principal,
        resource: Mapping[str, object],
        operation: str,
        now: datetime,
        request_id: str | None,
    ) -> dict[str, object]:
        return {
            "subject": build_subject(principal.claims, authenticated=True),
            "action": {"operation": operation},
            "resource": dict(resource),
            "context": build_context(principal.claims, tenant=self._code, now=now, request_id=request_id),
        }

    async def decide_many(self, inputs: Sequence[Mapping[str, object]]) -> list[Decision]:
        """Engine failures deny with 503 `policy_unavailable`; there is no local fallback (§B.3.2, D17)."""
        if not inputs:
            return []
        try:
            return await self._pool.run(self._engine.decide_many, list(inputs))
        except PolicyError as exc:
            raise UnavailableError(
                "policy_unavailable", "The policy engine could not decide; access is denied until it recovers."
            ) from exc

    async def check_label(self, resource: Mapping[str, object]) -> LabelCheck:
        try:
            return await self._pool.run(self._engine.check_label, resource, True)
        except PolicyError as exc:
            raise UnavailableError("policy_unavailable", "The policy engine could not check the label.") from exc

    async def decide(
        self,
        input: Mapping[str, Any],
        *,
        operation: str,
        instance: str,
        requested_by: str | None,
        request_id: str | None,
    ) -> DecisionOutcome:
        """One audited decision on one resource (`operation` is what is recorded: read, upload or explain)."""
        started = time.perf_counter()
        decision = (await self.decide_many([input]))[0]
        outcome = DecisionOutcome(decision, input, str(uuid.uuid4()), datetime.now(UTC))
        record = DecisionRecord(
            decision_id=outcome.decision_id,
            timestamp=outcome.evaluated_at,
            path=DECISION_PATH,
            labels={"instance": self._code, "service": "api"},
            input=_audit_input(input, decision, operation=operation, instance=instance),
            result=_audit_result(decision),
            policy_revision=decision.revision,
            requested_by=requested_by,
            request_id=request_id,
            metrics={"timer_eval_ns": int((time.perf_counter() - started) * 1e9)},
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        await self._audit.record(record)
        return outcome

    async def record_list(
        self,
        principal: Principal,
        *,
        query: Mapping[str, object],
        returned: int,
        dropped: int,
        revision: str | None,
        requested_by: str | None,
        request_id: str | None,
        latency_ms: float,
    ) -> None:
        """§B.8: one aggregate record per list, search or federated search."""
        subject = build_subject(principal.claims, authenticated=True)
        await self._audit.record(
            DecisionRecord(
                decision_id=str(uuid.uuid4()),
                timestamp=datetime.now(UTC),
                path=LIST_PATH,
                labels={"instance": self._code, "service": "api"},
                input={
                    "subject": {k: subject.get(k) for k in _SUBJECT_AUDIT_FIELDS},
                    "action": {"operation": "list"},
                    "query": dict(query),
                },
                result={"returned": returned, "dropped": dropped},
                policy_revision=revision,
                requested_by=requested_by,
                request_id=request_id,
                latency_ms=round(latency_ms, 3),
            )
        )


def _audit_input(input: Mapping[str, Any], decision: Decision, *, operation: str, instance: str) -> dict[str, object]:
    subject, resource, context = (dict(input.get(k) or {}) for k in ("subject", "resource", "context"))
    evaluated = decision.evaluation_details.get("subject")
    audit_subject: dict[str, object] = {k: subject.get(k) for k in _SUBJECT_AUDIT_FIELDS}
    audit_subject["clearance_level"] = evaluated.get("clearance_level") if isinstance(evaluated, dict) else None
    audit_subject["acr"], audit_subject["amr"] = context.get("acr"), context.get("amr")
    audit_resource: dict[str, object] = {k: resource.get(k) for k in _RESOURCE_AUDIT_FIELDS}
    audit_resource["instance"] = instance
    return {"subject": audit_subject, "resource": audit_resource, "action": {"operation": operation}}


def _audit_result(decision: Decision) -> dict[str, object]:
    return {
        "allow": decision.allow,
        "reason": decision.reason,
        "reason_code": reason_code(decision),
        "checks": dict(decision.checks),
    }
