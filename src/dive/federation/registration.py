"""Registration of a spoke at the hub api and the registry transitions (orchestration §8.2 C5, §8.6, Amendment A1;
identity-api-ui §B.7; CONSISTENCY #13). `HubApi` is the HTTP adapter; `registration_verdict` decides, without I/O,
what a registry record means for the spoke pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

from dive.federation.errors import (
    LinkFailedError,
    PartnerUnreachableError,
    PendingApprovalError,
    RegistrationError,
    RejectedError,
    WrongStateError,
)

__all__ = [
    "ENROLMENT_TOKEN_HEADER",
    "POLL_INTERVAL_S",
    "HubApi",
    "HubCredential",
    "Registration",
    "RegistrationRequest",
    "await_approval",
    "register_spoke",
    "registration_verdict",
]

ENROLMENT_TOKEN_HEADER: Final = "X-DIVE-Enrolment-Token"
ADMIN_KEY_HEADER: Final = "X-Admin-Key"
SPOKE_TOKEN_HEADER: Final = "X-DIVE-Spoke-Token"
POLL_INTERVAL_S: Final = 5.0
Verdict = Literal["ready", "pending", "rejected", "link_failed"]


@dataclass(frozen=True)
class HubCredential:
    """Exactly one of: the hub's admin key (local hub), an enrolment token (remote spoke, A1), a spoke token."""

    kind: Literal["admin_key", "enrolment_token", "spoke_token"]
    value: str

    def headers(self) -> dict[str, str]:
        name = {"admin_key": ADMIN_KEY_HEADER, "enrolment_token": ENROLMENT_TOKEN_HEADER}.get(self.kind)
        return {name or SPOKE_TOKEN_HEADER: self.value}


@dataclass(frozen=True, kw_only=True)
class RegistrationRequest:
    """The body of `POST /api/federation/register` (§8.2 step 3)."""

    code: str  # lower case
    name: str
    api_url: str
    web_url: str
    idp_url: str
    issuer: str
    kas_url: str
    version: str
    approve: bool = False
    ca_bundle_pem: str | None = None
    federation_secret: str | None = None

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "instanceCode": self.code.upper(), "name": self.name, "apiUrl": self.api_url, "webUrl": self.web_url,
            "idpUrl": self.idp_url, "issuer": self.issuer, "kasUrl": self.kas_url, "version": self.version,
            "approve": self.approve,
        }  # fmt: skip
        if self.ca_bundle_pem:
            body["caBundlePem"] = self.ca_bundle_pem
        if self.federation_secret:
            body["federationSecret"] = self.federation_secret
        return body


@dataclass(frozen=True)
class Registration:
    """A registry record as the hub answered it, plus the spoke token when this call issued one."""

    record: Mapping[str, Any]
    spoke_token: str | None
    created: bool

    @property
    def status(self) -> str:
        return str(self.record.get("status"))


class HubApi:
    """The hub api's registry routes; `http` is owned by the caller."""

    def __init__(self, base_url: str, http: httpx.Client) -> None:
        self.base = base_url.rstrip("/").removesuffix("/api")
        self._http = http

    def metadata(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/federation/metadata", {}, 200).json())

    def register(self, request: RegistrationRequest, credential: HubCredential) -> Registration:
        response = self._call("POST", "/api/federation/register", credential.headers(), (200, 201), json=request.body())
        body = response.json()
        return Registration(body["spoke"], body.get("spokeToken"), response.status_code == 201)

    def register_kas(self, body: Mapping[str, object], credential: HubCredential) -> dict[str, Any]:
        return dict(self._call("POST", "/api/kas/register", credential.headers(), (200, 201), json=dict(body)).json())

    def kas_registry(self, credential: HubCredential) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/kas/registry", credential.headers(), 200).json()["kasServers"])

    def spoke(self, code: str, credential: HubCredential) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/federation/spokes/{code.lower()}", credential.headers(), 200).json())

    def spokes(self, credential: HubCredential) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/federation/spokes", credential.headers(), 200).json()["spokes"])

    def transition(
        self, code: str, action: str, body: Mapping[str, object], credential: HubCredential
    ) -> dict[str, Any]:
        """approve, suspend or revoke (§B.7); a refused transition (409) is a `WrongStateError` (exit 2)."""
        path = f"/api/federation/spokes/{code.lower()}/{action}"
        response = self._call("POST", path, credential.headers(), (200, 409), json=dict(body))
        if response.status_code == 409:
            raise WrongStateError(str(response.json().get("message") or response.text[:200]))
        return dict(response.json()["spoke"])

    def _call(
        self, method: str, path: str, headers: dict[str, str], status: int | tuple[int, ...], **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._http.request(method, f"{self.base}{path}", headers=headers, timeout=30.0, **kwargs)
        except httpx.TransportError as exc:
            raise PartnerUnreachableError(f"the hub api at {self.base} is unreachable: {exc}") from exc
        wanted = (status,) if isinstance(status, int) else status
        if response.status_code not in wanted:
            raise RegistrationError(
                f"{method} {path} at the hub answered HTTP {response.status_code}: {response.text[:300]}",
                {"status": response.status_code, "answer": _error_body(response)},
            )
        return response


def _error_body(response: httpx.Response) -> dict[str, Any] | None:
    """The api's error document (`{"error", "message", "details"}`), so callers can name the hub's reason."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def registration_verdict(record: Mapping[str, Any]) -> Verdict:
    """What the spoke pipeline does next with a registry record (§8.2 steps 4 and 6)."""
    status = record.get("status")
    if status in ("suspended", "revoked"):
        return "rejected"
    if status != "approved":
        return "pending"
    return "link_failed" if record.get("linkStatus") == "failed" else "ready"


def register_spoke(hub: HubApi, request: RegistrationRequest, credential: HubCredential) -> Registration:
    """§8.2 step 3. A suspended or revoked answer is `RejectedError`; pending and approved are returned."""
    registration = hub.register(request, credential)
    if registration_verdict(registration.record) == "rejected":
        raise RejectedError(
            f"the hub answered {request.code.upper()} is {registration.status}",
            remediation=f"ask the hub operator: dive federation approve {request.code.upper()}",
        )
    return registration


def await_approval(
    hub: HubApi,
    code: str,
    credential: HubCredential,
    *,
    timeout_s: float,
    interval_s: float = POLL_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """§8.2 step 4: poll `GET …/spokes/{code}` every `interval_s` for up to `timeout_s` while pending."""
    deadline = clock() + timeout_s
    while True:
        record = hub.spoke(code, credential)
        verdict = registration_verdict(record)
        if verdict == "ready":
            return record
        if verdict == "rejected":
            raise RejectedError(f"{code.upper()} is {record.get('status')} at the hub")
        if verdict == "link_failed":
            raise LinkFailedError(f"the hub could not link {code.upper()}: {record.get('linkError')}")
        if clock() + interval_s > deadline:
            raise PendingApprovalError(
                f"{code.upper()} is registered but still pending approval at the hub",
                remediation=f"approve on the hub: dive federation approve {code.upper()}",
            )
        sleep(interval_s)
