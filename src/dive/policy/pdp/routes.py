"""HTTP routes of the pdp: OPA's data API (`/v1/data/...`) and AuthZEN 1.0 (`/access/v1/...`), abac §1.4."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from dive.observability.context import current_request_id
from dive.policy.errors import PolicyError
from dive.policy.pdp import authzen
from dive.policy.pdp.limits import input_problem
from dive.policy.pdp.runtime import PdpRuntime, QueryOutcome
from dive.service.body import read_body_limited
from dive.service.errors import HttpError

__all__ = ["router"]

router = APIRouter()

_DATA_PATH: Final = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
MAX_PATH_LENGTH: Final = 64
JSON_TYPES: Final = ("application/json",)


def _json_body_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The routes read raw bodies (OPA semantics); this documents them in the OpenAPI for clients and fuzzers."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_ENTITY: Final = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {"type": {"type": "string"}, "id": {"type": "string"}, "properties": {"type": "object"}},
}
_EVALUATION: Final = {
    "type": "object",
    "required": ["subject", "action", "resource"],
    "properties": {
        "subject": _ENTITY,
        "resource": _ENTITY,
        "action": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "properties": {"type": "object"}},
        },
        "context": {"type": "object"},
    },
}
DATA_REQUEST: Final = _json_body_schema({"type": "object", "properties": {"input": {}}})
EVALUATION_REQUEST: Final = _json_body_schema(_EVALUATION)
EVALUATIONS_REQUEST: Final = _json_body_schema(
    {
        **_EVALUATION,
        "required": [],
        "properties": {
            **_EVALUATION["properties"],
            "evaluations": {"type": "array", "items": {"type": "object"}},
            "options": {
                "type": "object",
                "properties": {
                    "evaluations_semantic": {"enum": ["execute_all", "deny_on_first_deny", "permit_on_first_permit"]}
                },
            },
        },
    }
)


class _JsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _runtime(request: Request) -> PdpRuntime:
    return request.app.state.pdp  # type: ignore[no-any-return]


def _opa_error(status: int, message: str) -> JSONResponse:
    """OPA's own error shape, which OPA clients parse (`code` + `message`)."""
    return _JsonResponse({"code": "invalid_parameter", "message": message}, status_code=status)


def _checked_path(path: str) -> str | None:
    path = path.strip("/")
    if path == "":
        return ""
    return path if len(path) <= MAX_PATH_LENGTH and _DATA_PATH.fullmatch(path) else None


async def _json_body(request: Request, *, allow_empty: bool) -> object:
    raw = await read_body_limited(request, request.app.state.pdp_settings.max_body_bytes)
    if not raw.strip():
        if allow_empty:
            return None
        raise ValueError("the request body is empty")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: pathologically deep nesting
        raise ValueError(f"the request body is not valid JSON ({type(exc).__name__})") from None


async def _evaluate(request: Request, path: str, input: object) -> QueryOutcome:
    runtime = _runtime(request)
    try:
        outcome = await runtime.query(path, input)
    except PolicyError as exc:
        raise HttpError(exc.code, "Policy evaluation failed; the request is denied.", status=500) from exc
    client = request.client.host if request.client else None
    await runtime.log_decision(outcome, path=path, input=input, request_id=current_request_id(), client=client)
    return outcome


def _data_answer(request: Request, outcome: QueryOutcome, *, with_id: bool) -> JSONResponse:
    body: dict[str, Any] = {}
    if outcome.result.defined:
        body["result"] = outcome.result.value
    if with_id:
        body["decision_id"] = outcome.decision_id
    if request.query_params.get("metrics") == "true":
        body["metrics"] = {"timer_rego_query_eval_ns": outcome.eval_ns}
    return _JsonResponse(body)


@router.post("/v1/data", include_in_schema=False)
@router.post("/v1/data/{path:path}", openapi_extra=DATA_REQUEST)
async def post_data(request: Request, path: str = "") -> Response:
    """Evaluate `data.<path>` with `input` (OPA data API). Undefined answers 200 without `result`."""
    checked = _checked_path(path)
    if checked is None:
        return _opa_error(400, f"the data path must be segments of [A-Za-z0-9_-] up to {MAX_PATH_LENGTH} characters")
    try:
        body = await _json_body(request, allow_empty=True)
    except ValueError as exc:
        return _opa_error(400, str(exc))
    if body is not None and not isinstance(body, dict):
        return _opa_error(400, 'the request body must be a JSON object such as {"input": {...}}')
    input = (body or {}).get("input")
    problem = input_problem(input)
    if problem is not None:
        return _opa_error(400, problem)
    return _data_answer(request, await _evaluate(request, checked, input), with_id=True)


@router.get("/v1/data", include_in_schema=False)
@router.get("/v1/data/{path:path}")
async def get_data(request: Request, path: str = "") -> Response:
    """Read `data.<path>` without input, e.g. `GET /v1/data/dive/policy` for the bundle revision."""
    checked = _checked_path(path)
    if checked is None:
        return _opa_error(400, f"the data path must be segments of [A-Za-z0-9_-] up to {MAX_PATH_LENGTH} characters")
    runtime = _runtime(request)
    try:
        outcome = await runtime.query(checked, None)
    except PolicyError as exc:
        raise HttpError(exc.code, "Policy evaluation failed.", status=500) from exc
    return _data_answer(request, outcome, with_id=False)


async def _authzen_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise HttpError("invalid_request", "AuthZEN requests must be sent as application/json.", status=400)
    try:
        body = await _json_body(request, allow_empty=False)
    except ValueError as exc:
        raise HttpError("invalid_request", str(exc), status=400) from exc
    if not isinstance(body, dict):
        raise HttpError("invalid_request", "the request body must be a JSON object", status=400)
    return body


async def _answer(request: Request, evaluation: authzen.Evaluation) -> dict[str, Any]:
    problem = input_problem(evaluation.as_request())
    if problem is not None:
        raise HttpError("invalid_request", problem, status=400)
    path = request.app.state.pdp_settings.authzen_path
    is_dive = path.startswith("dive/")
    input = authzen.dive_input(evaluation) if is_dive else evaluation.as_request()
    outcome = await _evaluate(request, path, input)
    return authzen.evaluation_answer(outcome.result.value if outcome.result.defined else None)


@router.post("/access/v1/evaluation", openapi_extra=EVALUATION_REQUEST)
async def evaluation(request: Request) -> Response:
    """AuthZEN single evaluation."""
    body = await _authzen_body(request)
    try:
        parsed = authzen.parse_evaluation(body)
    except authzen.AuthzenError as exc:
        raise HttpError("invalid_request", str(exc), status=400) from exc
    return _JsonResponse(await _answer(request, parsed))


@router.post("/access/v1/evaluations", openapi_extra=EVALUATIONS_REQUEST)
async def evaluations(request: Request) -> Response:
    """AuthZEN boxcar: items inherit the top-level objects; answers keep the request's order."""
    body = await _authzen_body(request)
    try:
        semantic = authzen.semantic_of(body)
        parsed = authzen.parse_evaluations(body)
    except authzen.AuthzenError as exc:
        raise HttpError("invalid_request", str(exc), status=400) from exc
    if isinstance(parsed, authzen.Evaluation):
        return _JsonResponse(await _answer(request, parsed))
    answers: list[dict[str, Any]] = []
    for item in parsed:
        answer = authzen.error_answer(item) if isinstance(item, authzen.AuthzenError) else await _answer(request, item)
        answers.append(answer)
        if authzen.stop_after(semantic, answer):
            break
    return _JsonResponse({"evaluations": answers})


@router.get("/.well-known/authzen-configuration")
async def authzen_configuration(request: Request) -> Response:
    base = request.app.state.settings.public_url
    return _JsonResponse(
        {
            "policy_decision_point": base,
            "access_evaluation_endpoint": f"{base}/access/v1/evaluation",
            "access_evaluations_endpoint": f"{base}/access/v1/evaluations",
            "capabilities": ["evaluations_semantic"],
        }
    )
