"""Schemathesis against a running service's own OpenAPI: every generated request must get a non-5xx answer.

Imported by the fuzz tests of each service; example counts stay small for the 2-core CI machine.
"""

from __future__ import annotations

from collections.abc import Iterable

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from harness import ServiceProcess

__all__ = ["fuzz_openapi"]

FUZZ_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)


def fuzz_openapi(service: ServiceProcess, *, skip_paths: Iterable[str] = ()) -> list[str]:
    """Fuzz every operation of the service's `/openapi.json`; returns the operations that were fuzzed."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the deployment CA
    session.verify = str(service.ca_bundle)
    document = session.get(f"{service.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    skipped = set(skip_paths)
    fuzzed: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in skipped:
            continue
        fuzzed.append(f"{operation.method.upper()} {operation.path}")

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=service.url, session=session, timeout=10, verify=session.verify)
            case.validate_response(response, checks=[not_a_server_error])

        run()
    return fuzzed
