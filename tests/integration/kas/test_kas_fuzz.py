"""Schemathesis over the KAS's own OpenAPI: malformed or oversized requests get 4xx, never 5xx (ztdf-kas §15)."""

from __future__ import annotations

from fuzzing import fuzz_openapi

from .conftest import KasDeployment


def test_openapi_fuzzing_of_the_kas_finds_no_server_error(kas_deployment: KasDeployment) -> None:
    token = kas_deployment.issuer.token()
    fuzzed = fuzz_openapi(kas_deployment.kas, headers={"Authorization": f"Bearer {token}"}, negative=True)
    assert any("rewrap" in operation.lower() for operation in fuzzed)
    assert kas_deployment.kas.process.poll() is None


def test_openapi_fuzzing_without_a_token_finds_no_server_error(kas_deployment: KasDeployment) -> None:
    fuzz_openapi(kas_deployment.kas, negative=True)
    assert kas_deployment.kas.process.poll() is None
