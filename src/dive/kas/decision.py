"""The policy step of a rewrap (spec/ztdf-kas.md §8 steps 15–18, §8.1; CONSISTENCY #1, #7, #11).

The resource comes only from the bound policy; the subject only from the verified token claims, through the same
builder the api uses. Every group of a request goes to the engine in one `decide_many` call; identical policy strings
are decided once. Any engine error fails closed (`pdp_error`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from dive.policy.engine import Decision, PolicyEngine
from dive.policy.errors import PolicyError
from dive.policy.pep_input import build_kas_input
from dive.ztdf import Policy, PolicyRequirements, ZtdfError, parse_policy, policy_requirements

__all__ = ["DecisionContext", "GroupDecision", "decide_policies", "label_from_requirements"]

UNLABELLED_REASON: Final = "Access granted — unlabelled policy, permitted for an authenticated subject (test mode)"


@dataclass(frozen=True)
class GroupDecision:
    allow: bool
    code: str | None  # per-KAO error code on deny
    reason: str
    reason_code: str  # `ok`, the failed check, or the KAS code
    checks: Mapping[str, bool] | None = None
    input: Mapping[str, Any] | None = field(default=None, repr=False)
    policy_uuid: str | None = None
    resource_id: str | None = None
    revision: str | None = None


@dataclass(frozen=True, kw_only=True)
class DecisionContext:
    claims: Mapping[str, Any]
    tenant: str
    now: datetime
    request_id: str | None
    source_ip: str | None
    namespaces: tuple[str, ...]
    allow_unlabelled: bool


def label_from_requirements(req: PolicyRequirements, policy: Policy) -> dict[str, object]:
    """abac §1.2 names (CONSISTENCY #36); optional fields absent from the policy are left out."""
    label: dict[str, object] = {"coiOperator": req.coi_operator, "COI": list(req.cois), "caveats": list(req.caveats)}
    label["releasableToIndustry"] = req.releasable_to_industry
    if req.classification is not None:
        label["classification"] = req.classification
    if req.releasable_to:
        label["releasabilityTo"] = list(req.releasable_to)
    dive = policy.dive
    if dive is not None:
        for name, value in (
            ("originalClassification", dive.original_classification),
            ("originalCountry", dive.original_country),
            ("creationDate", dive.creation_date),
        ):
            if value is not None:
                label[name] = value
    return label


@dataclass
class _Pending:
    policy: Policy
    input: dict[str, object]


def decide_policies(
    bodies: Sequence[str], engine: PolicyEngine, ctx: DecisionContext
) -> tuple[dict[str, GroupDecision], float]:
    """One decision per distinct policy string, and the engine batch time in seconds."""
    decisions: dict[str, GroupDecision] = {}
    pending: dict[str, _Pending] = {}
    for body in dict.fromkeys(bodies):
        outcome = _prepare(body, ctx)
        if isinstance(outcome, GroupDecision):
            decisions[body] = outcome
        else:
            pending[body] = outcome
    begin = time.perf_counter()
    if pending:
        results = _run_engine(engine, [p.input for p in pending.values()])
        for (body, item), result in zip(pending.items(), results, strict=True):
            decisions[body] = _from_engine(result, item, ctx)
    return decisions, time.perf_counter() - begin


def _prepare(body: str, ctx: DecisionContext) -> GroupDecision | _Pending:
    try:
        policy = parse_policy(body)
        requirements = policy_requirements(policy, ctx.namespaces)
    except ZtdfError as exc:
        return GroupDecision(False, exc.code, exc.message, exc.code)
    ids = {"policy_uuid": policy.uuid, "resource_id": _resource_id(policy)}
    if requirements.is_unlabelled and policy.dive is None:
        if not ctx.allow_unlabelled:
            reason = "the policy carries no DIVE attributes; this KAS releases keys only for labelled documents"
            return GroupDecision(False, "policy_unlabelled", reason, "policy_unlabelled", **ids)
        return GroupDecision(True, None, UNLABELLED_REASON, "ok", **ids)
    decision_input = build_kas_input(
        ctx.claims,
        label_from_requirements(requirements, policy),
        resource_id=ids["resource_id"],
        origin_instance=(policy.dive.instance if policy.dive and policy.dive.instance else ""),
        tenant=ctx.tenant,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    if ctx.source_ip is not None:
        decision_input["context"]["sourceIP"] = ctx.source_ip  # type: ignore[index]
    return _Pending(policy, decision_input)


def _resource_id(policy: Policy) -> str:
    return policy.dive.resource_id if policy.dive and policy.dive.resource_id else policy.uuid


def _run_engine(engine: PolicyEngine, inputs: list[dict[str, object]]) -> list[Decision | PolicyError]:
    try:
        return list(engine.decide_many(inputs))
    except PolicyError:
        pass  # one bad input fails the batch: decide one by one so that only that group fails
    results: list[Decision | PolicyError] = []
    for item in inputs:
        try:
            results.append(engine.decide(item))
        except PolicyError as exc:
            results.append(exc)
    return results


def _from_engine(result: Decision | PolicyError, pending: _Pending, ctx: DecisionContext) -> GroupDecision:
    ids = {"policy_uuid": pending.policy.uuid, "resource_id": _resource_id(pending.policy), "input": pending.input}
    if isinstance(result, PolicyError):
        return GroupDecision(
            False, "pdp_error", "the policy engine could not decide; access denied", "pdp_error", **ids
        )
    failed = result.failed
    common = {"checks": dict(result.checks), "revision": result.revision, **ids}
    if not result.allow:
        return GroupDecision(False, "policy_denied", result.reason, failed[0] if failed else "deny", **common)
    if pending.policy.dissem and not _in_dissem(ctx.claims, pending.policy.dissem):
        reason = "Access denied: you are not on this document's dissemination list"
        return GroupDecision(False, "policy_denied", reason, "dissem", **common)
    return GroupDecision(True, None, result.reason, "ok", **common)


def _in_dissem(claims: Mapping[str, Any], dissem: Sequence[str]) -> bool:
    """§4.4 step 6: the subject's uniqueID, email or preferred_username must be listed."""
    names = {claims.get(name) for name in ("uniqueID", "email", "preferred_username")}
    return any(isinstance(name, str) and name in dissem for name in names)
