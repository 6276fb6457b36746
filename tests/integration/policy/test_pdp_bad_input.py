"""Bad input never breaks the pdp: fuzzing its OpenAPI finds no 5xx, and malformed policy inputs answer 400 or
`allow: false` while the process stays up (issue acceptance: "Bad input")."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import fuzz_openapi
from harness import ServiceProcess

JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
)
SECTIONS = st.sampled_from(["subject", "action", "resource", "context"])
FIELDS = st.sampled_from(
    [
        "authenticated",
        "uniqueID",
        "clearance",
        "countryOfAffiliation",
        "acpCOI",
        "organizationType",
        "issuer",
        "classification",
        "releasabilityTo",
        "COI",
        "coiOperator",
        "caveats",
        "creationDate",
        "ztdf",
        "operation",
        "acr",
        "amr",
        "tenant",
        "currentTime",
    ]
)
MALFORMED_INPUTS = st.one_of(
    JSON_VALUES,
    st.dictionaries(SECTIONS, JSON_VALUES, max_size=4),
    st.dictionaries(SECTIONS, st.dictionaries(FIELDS, JSON_VALUES, max_size=6), max_size=4),
)


def test_openapi_fuzzing_finds_no_server_error(pdp: ServiceProcess) -> None:
    fuzzed = fuzz_openapi(pdp)
    assert "POST /v1/data/{path}" in fuzzed and "POST /access/v1/evaluations" in fuzzed
    assert pdp.process.poll() is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(input=MALFORMED_INPUTS)
def test_malformed_decision_input_is_denied_never_an_error(pdp: ServiceProcess, input: object) -> None:
    with pdp.client() as client:
        response = client.post("/v1/data/dive/authz/decision", json={"input": input})
    assert response.status_code == 200
    assert response.json()["result"]["allow"] is False


def test_deeply_nested_input_answers_400_or_denies_and_the_process_stays_up(pdp: ServiceProcess) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    with pdp.client() as client:
        response = client.post("/v1/data/dive/authz/decision", content=f'{{"input": {nested}}}'.encode())
        assert response.status_code == 400 or response.json()["result"]["allow"] is False
        assert client.get("/health/live").status_code == 200


def test_one_megabyte_arrays_are_refused_with_400_naming_the_field(pdp: ServiceProcess) -> None:
    big = ["USA"] * 170_000  # about 1 MB of JSON per field
    input = {"subject": {"acpCOI": big, "uniqueID": "x"}, "resource": {"releasabilityTo": big, "COI": big}}
    body = json.dumps({"input": input}).encode()
    assert len(body) > 2_000_000
    with pdp.client(timeout=60) as client:
        response = client.post("/v1/data/dive/authz/decision", content=body)
        assert response.status_code == 400
        assert "is a list of 170000 items; the limit is 512" in response.json()["message"]
        assert client.get("/health/live").status_code == 200


def test_list_at_the_limit_is_still_decided(pdp: ServiceProcess) -> None:
    input = {"subject": {"uniqueID": "x"}, "resource": {"releasabilityTo": ["USA"] * 512}}
    with pdp.client(timeout=60) as client:
        response = client.post("/v1/data/dive/authz/decision", json={"input": input})
    assert response.status_code == 200 and response.json()["result"]["allow"] is False


def test_body_over_the_limit_answers_413(pdp: ServiceProcess) -> None:
    with pdp.client(timeout=60) as client:
        response = client.post("/v1/data/dive/authz/decision", content=b"[" + b"1," * 5_000_000 + b"1]")
    assert response.status_code == 413
