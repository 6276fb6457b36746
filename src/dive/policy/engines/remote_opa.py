"""`PolicyEngine` over the OPA data API (spec/abac.md §1.4): the local `pdp` service or a real OPA server.

Used by `api` when `DIVE_API_PDP_MODE=remote` (CONSISTENCY #7). Transport failures become `policy_unavailable`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Final

import httpx

from dive.policy.engine import DECISION_PATH, LABEL_CHECK_PATH, Decision, LabelCheck, QueryResult
from dive.policy.errors import PolicyQueryError, PolicyUnavailableError

__all__ = ["DEFAULT_TIMEOUT_S", "RemoteOpaEngine"]

DEFAULT_TIMEOUT_S: Final = 0.5
_POLICY_PATH: Final = "dive/policy"


class RemoteOpaEngine:
    def __init__(
        self, base_url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self._base_url, timeout=timeout_s, verify=ssl_context if ssl_context is not None else True
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteOpaEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, method: str, path: str, body: Mapping[str, object] | None) -> QueryResult:
        url = f"/v1/data/{path.strip('/')}"
        try:
            response = self._client.request(method, url, json=body)
        except httpx.TransportError as exc:  # refused, TLS failure or timeout: all mean "unreachable"
            raise PolicyUnavailableError(f"the policy engine at {self._base_url} is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise PolicyQueryError(
                f"the policy engine at {self._base_url} answered {response.status_code} for {url}",
                {"status": response.status_code},
            )
        try:
            document = response.json()
        except ValueError as exc:
            raise PolicyQueryError(f"the policy engine at {self._base_url} answered non-JSON for {url}") from exc
        if not isinstance(document, dict):
            raise PolicyQueryError(f"the policy engine at {self._base_url} answered a non-object for {url}")
        if "result" not in document:
            return QueryResult(False)
        return QueryResult(True, document["result"])

    def query(self, path: str, input: object | None = None) -> QueryResult:
        return self._send("POST", path, {} if input is None else {"input": input})

    def decide(self, input: Mapping[str, object]) -> Decision:
        result = self.query(DECISION_PATH, input)
        if not result.defined:
            raise PolicyQueryError(f"the policy engine at {self._base_url} has no data.dive.authz.decision")
        return Decision.from_result(result.value)

    def decide_many(self, inputs: Sequence[Mapping[str, object]]) -> list[Decision]:
        return [self.decide(item) for item in inputs]

    def check_label(self, resource: Mapping[str, object], strict: bool) -> LabelCheck:
        result = self.query(LABEL_CHECK_PATH, {"resource": resource, "strict": strict})
        if not result.defined:
            raise PolicyQueryError(f"the policy engine at {self._base_url} has no data.dive.labels.check")
        return LabelCheck.from_result(result.value)

    def revision(self) -> str:
        result = self._send("GET", _POLICY_PATH, None)
        revision = result.value.get("revision") if isinstance(result.value, dict) else None
        if not isinstance(revision, str):
            raise PolicyQueryError(f"the policy engine at {self._base_url} reports no data.dive.policy.revision")
        return revision

    def reload(self, data: Mapping[str, object] | None = None, extra_modules: Mapping[str, str] | None = None) -> None:
        """A remote engine loads its own bundle and data; a local reload request is an error, never a no-op."""
        raise PolicyQueryError(
            f"the policy engine at {self._base_url} is remote; reload its bundle and data on that server"
        )
