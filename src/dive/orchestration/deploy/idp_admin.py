"""A small client of the idp's Keycloak-compatible admin REST API, authenticated as the master `admin` with the
instance's `<c>/idp-admin-password` (identity-api-ui §A; orchestration §4.5). Transport failures become
`PhaseError("idp_unreachable")`, so nothing above this module sees an httpx type."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final

import httpx

from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.pki import PkiError, ca_bundle_path, ssl_context_for

__all__ = ["IdpAdmin"]

_TIMEOUT_S: Final = 10.0


class IdpAdmin:
    def __init__(self, facts: InstanceFacts) -> None:
        self.facts = facts
        self.base = facts.url("idp")
        self._http: httpx.Client | None = None
        self._token: str | None = None

    def __enter__(self) -> IdpAdmin:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._http is not None:
            self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """`path` is relative to `/admin/realms/<realm>` when it starts with `/`; 401 refreshes the token once."""
        realm_relative = path == "" or path.startswith("/")
        url = f"{self.base}/admin/realms/{self.facts.realm}{path}" if realm_relative else f"{self.base}/{path}"
        for attempt in range(2):
            response = self._send(method, url, headers={"Authorization": f"Bearer {self._admin_token()}"}, **kwargs)
            if response.status_code != 401 or attempt:
                return response
            self._token = None
        return response

    def realm_exists(self) -> bool:
        status = self.request("GET", "").status_code
        if status not in (200, 404):
            raise PhaseError("idp_admin_failed", f"GET realm {self.facts.realm} answered HTTP {status}")
        return status == 200

    def find(self, path: str, **params: str) -> list[dict[str, Any]]:
        response = self.request("GET", path, params=params)
        self.expect(response, 200, f"GET {path}")
        found = response.json()
        return found if isinstance(found, list) else [found]

    def expect(self, response: httpx.Response, status: int | tuple[int, ...], what: str) -> None:
        wanted = (status,) if isinstance(status, int) else status
        if response.status_code not in wanted:
            raise PhaseError(
                "idp_admin_failed",
                f"{what} in realm {self.facts.realm} answered HTTP {response.status_code}: {response.text[:200]}",
            )

    def password_token(self, client_id: str, client_secret: str, username: str, password: str) -> httpx.Response:
        url = f"{self.base}/realms/{self.facts.realm}/protocol/openid-connect/token"
        form = {"grant_type": "password", "client_id": client_id, "client_secret": client_secret}
        return self._send("POST", url, data=form | {"username": username, "password": password})

    def get(self, url: str) -> httpx.Response:
        return self._send("GET", url)

    def _admin_token(self) -> str:
        if self._token is None:
            password = self.facts.secrets.get(f"{self.facts.code}/idp-admin-password") or ""
            url = f"{self.base}/realms/master/protocol/openid-connect/token"
            form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": password}
            response = self._send("POST", url, data=form)
            if response.status_code != 200:
                raise PhaseError(
                    "idp_admin_login_failed",
                    f"the idp of {self.facts.display} refused the admin credentials (HTTP {response.status_code})",
                    remediation=f"dive --instance {self.facts.code} secrets load",
                )
            self._token = str(response.json()["access_token"])
        return self._token

    def _client(self) -> httpx.Client:
        if self._http is None:
            try:
                context = ssl_context_for(ca_bundle_path(self.facts.home))
            except PkiError as exc:
                raise PhaseError("idp_unreachable", f"the idp cannot be reached over TLS: {exc}") from exc
            self._http = httpx.Client(verify=context, timeout=_TIMEOUT_S)
        return self._http

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client().request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise PhaseError("idp_unreachable", f"the idp at {self.base} is unreachable: {exc}") from exc
