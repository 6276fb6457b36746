"""AuthZEN Authorization API 1.0 requests and answers (spec/abac.md §1.4), pure: no engine, no HTTP.

Request shapes are validated as the certification scenario checks them: a missing or mistyped `subject`, `action`
or `resource`, or an entity without its `type`/`id`/`name` string, is a 400; unknown fields are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "SEMANTICS",
    "AuthzenError",
    "Evaluation",
    "Semantic",
    "dive_input",
    "error_answer",
    "evaluation_answer",
    "parse_evaluation",
    "parse_evaluations",
    "semantic_of",
    "stop_after",
]

Semantic = Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"]
SEMANTICS: Final[tuple[Semantic, ...]] = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
_ENTITIES: Final = (("subject", ("type", "id")), ("resource", ("type", "id")), ("action", ("name",)))


class AuthzenError(ValueError):
    """The request does not follow the Authorization API 1.0 shape; answered 400 `invalid_request`."""


@dataclass(frozen=True)
class Evaluation:
    """One validated evaluation: the four AuthZEN objects, unknown members kept for the policy to ignore."""

    subject: Mapping[str, Any]
    action: Mapping[str, Any]
    resource: Mapping[str, Any]
    context: Mapping[str, Any]

    def as_request(self) -> dict[str, Any]:
        return {"subject": self.subject, "action": self.action, "resource": self.resource, "context": self.context}


def parse_evaluation(body: object) -> Evaluation:
    if not isinstance(body, dict):
        raise AuthzenError("the request body must be a JSON object with subject, action and resource")
    return _evaluation(body)


def parse_evaluations(body: object) -> tuple[Evaluation | AuthzenError, ...] | Evaluation:
    """A boxcar request: items inherit the top-level objects wholesale (never merged field by field).

    Without `evaluations` (or with an empty list) the request is a single evaluation. An invalid item becomes an
    `AuthzenError` in its slot, so that the other items are still answered.
    """
    if not isinstance(body, dict):
        raise AuthzenError("the request body must be a JSON object")
    items = body.get("evaluations")
    if items is None or items == []:
        return _evaluation(body)
    if not isinstance(items, list):
        raise AuthzenError("evaluations must be a list of objects")
    defaults = {key: body[key] for key in ("subject", "action", "resource", "context") if key in body}
    results: list[Evaluation | AuthzenError] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results.append(AuthzenError(f"evaluations[{index}] is not an object"))
            continue
        try:
            results.append(_evaluation({**defaults, **item}))
        except AuthzenError as exc:
            results.append(AuthzenError(f"evaluations[{index}]: {exc}"))
    return tuple(results)


def semantic_of(body: Mapping[str, Any]) -> Semantic:
    options = body.get("options")
    if options is None:
        return "execute_all"
    if not isinstance(options, dict):
        raise AuthzenError("options must be an object")
    semantic = options.get("evaluations_semantic", "execute_all")
    if semantic not in SEMANTICS:
        raise AuthzenError(f"options.evaluations_semantic must be one of {', '.join(SEMANTICS)}")
    return semantic  # type: ignore[no-any-return]


def _evaluation(body: Mapping[str, Any]) -> Evaluation:
    for entity, required in _ENTITIES:
        value = body.get(entity)
        if not isinstance(value, dict):
            raise AuthzenError(f"{entity} is required and must be an object")
        for member in required:
            if not isinstance(value.get(member), str) or not value[member]:
                raise AuthzenError(f"{entity}.{member} is required and must be a non-empty string")
        properties = value.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise AuthzenError(f"{entity}.properties must be an object")
    context = body.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise AuthzenError("context must be an object")
    return Evaluation(body["subject"], body["action"], body["resource"], context)


def dive_input(evaluation: Evaluation) -> dict[str, Any]:
    """The `dive.authz` input of an AuthZEN evaluation (§1.4): properties become the policy's objects."""
    subject = dict(evaluation.subject.get("properties") or {})
    subject.setdefault("uniqueID", evaluation.subject["id"])
    resource = dict(evaluation.resource.get("properties") or {})
    resource.setdefault("resourceId", evaluation.resource["id"])
    return {
        "subject": subject,
        "resource": resource,
        "action": {"operation": evaluation.action["name"]},
        "context": dict(evaluation.context),
    }


def evaluation_answer(value: object) -> dict[str, Any]:
    """An AuthZEN answer from a policy value: a `dive.authz` decision, `{decision, context}`, or a bare boolean.

    Anything else (undefined, wrong type) is a deny: the PDP never turns an unexpected value into a permit.
    """
    if isinstance(value, bool):
        return {"decision": value}
    if not isinstance(value, dict):
        return {"decision": False}
    if "allow" in value:  # a dive.authz decision object
        reason = value.get("reason")
        return {
            "decision": value.get("allow") is True,
            "context": {
                "reason_admin": {"en": reason},
                "reason_user": {"en": reason},
                "obligations": value.get("obligations", []),
                "evaluation_details": value.get("evaluation_details", {}),
            },
        }
    answer: dict[str, Any] = {"decision": value.get("decision") is True}
    if isinstance(value.get("context"), dict):
        answer["context"] = value["context"]
    return answer


def stop_after(semantic: Semantic, answer: Mapping[str, Any]) -> bool:
    """Whether a boxcar stops after this answer (the answers so far, this one included, are returned)."""
    return (semantic == "deny_on_first_deny" and answer["decision"] is False) or (
        semantic == "permit_on_first_permit" and answer["decision"] is True
    )


def error_answer(error: AuthzenError) -> dict[str, Any]:
    return {"decision": False, "context": {"error": {"status": 400, "message": str(error)}}}
