"""Schemathesis against a running service's own OpenAPI: every generated request must get a non-5xx answer.

Imported by the fuzz tests of each service; example counts stay small for the 2-core CI machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from harness import ServiceProcess

__all__ = ["fuzz_openapi"]

FUZZ_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)


def fuzz_openapi(
    service: ServiceProcess,
    *,
    skip_paths: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    negative: bool = False,
) -> list[str]:
    """Fuzz every operation of the service's `/openapi.json`; returns the operations that were fuzzed.

    `skip_paths` names paths (all methods) or single operations as `"METHOD /path"`. `headers` go with every call
    (e.g. a bearer token); `path_parameters` pin named path parameters to known values, so generated requests
    reach past the lookup of an existing object. `negative` mixes in schema-violating requests (wrong types,
    missing required fields), which must be refused with a 4xx as well.
    """
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the deployment CA
    session.verify = str(service.ca_bundle)
    document = session.get(f"{service.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    skipped = set(skip_paths)
    fuzzed: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if operation.path in skipped or name in skipped:
            continue
        fuzzed.append(name)

        strategy = operation.as_strategy()
        if negative:
            strategy = strategy | operation.as_strategy(GenerationMode.NEGATIVE)

        @FUZZ_SETTINGS
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            for parameter, value in (path_parameters or {}).items():
                if parameter in (case.path_parameters or {}):
                    case.path_parameters[parameter] = value  # type: ignore[index]
            response = case.call(
                base_url=service.url, session=session, headers=dict(headers or {}), timeout=10, verify=session.verify
            )
            case.validate_response(response, checks=[not_a_server_error])

        run()
    return fuzzed
