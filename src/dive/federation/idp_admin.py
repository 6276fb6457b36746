"""The partner idp's Keycloak-compatible admin REST API (identity-api-ui §A.9), as the link code uses it.

Authenticated as the master `admin` (password grant on `admin-cli`). Transport failures become
`PartnerUnreachableError` and unexpected answers `AdminApiError`, so nothing above this module sees httpx."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final

import httpx

from dive.federation.errors import AdminApiError, PartnerUnreachableError
from dive.federation.partners import Partner

__all__ = ["IdpAdminClient", "JsonObject"]

JsonObject = dict[str, Any]
_TIMEOUT_S: Final = 10.0


class IdpAdminClient:
    """Admin calls on one partner's own realm; `http` is owned by the caller (one client per command)."""

    def __init__(self, partner: Partner, admin_password: str, http: httpx.Client) -> None:
        self.partner = partner
        self._password, self._http = admin_password, http
        self._token: str | None = None

    def __enter__(self) -> IdpAdminClient:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._token = None

    def identity_provider(self, alias: str) -> JsonObject | None:
        return self._get_optional(f"/identity-provider/instances/{alias}")

    def put_identity_provider(self, representation: JsonObject) -> None:
        alias = representation["alias"]
        if self.identity_provider(alias) is None:
            self._expect("POST", "/identity-provider/instances", (201, 409), json=representation)
        else:
            self._expect("PUT", f"/identity-provider/instances/{alias}", 204, json=representation)

    def delete_identity_provider(self, alias: str) -> bool:
        return self._expect("DELETE", f"/identity-provider/instances/{alias}", (204, 404)).status_code == 204

    def mappers(self, alias: str) -> list[JsonObject]:
        return list(self._expect("GET", f"/identity-provider/instances/{alias}/mappers", 200).json())

    def add_mapper(self, alias: str, mapper: JsonObject) -> None:
        self._expect("POST", f"/identity-provider/instances/{alias}/mappers", (201, 409), json=mapper)

    def client(self, client_id: str) -> JsonObject | None:
        found = self._expect("GET", "/clients", 200, params={"clientId": client_id}).json()
        return found[0] if found else None

    def put_client(self, representation: JsonObject) -> None:
        existing = self.client(representation["clientId"])
        if existing is None:
            self._expect("POST", "/clients", (201, 409), json=representation)
        else:
            self._expect("PUT", f"/clients/{existing['id']}", 204, json={**existing, **representation})

    def delete_client(self, client_id: str) -> bool:
        existing = self.client(client_id)
        if existing is None:
            return False
        self._expect("DELETE", f"/clients/{existing['id']}", (204, 404))
        return True

    def clear_caches(self) -> None:
        for cache in ("clear-realm-cache", "clear-keys-cache"):
            self._expect("POST", f"/{cache}", (200, 204))

    def _get_optional(self, path: str) -> JsonObject | None:
        response = self._expect("GET", path, (200, 404))
        return None if response.status_code == 404 else dict(response.json())

    def _expect(self, method: str, path: str, status: int | tuple[int, ...], **kwargs: Any) -> httpx.Response:
        wanted = (status,) if isinstance(status, int) else status
        response = self._request(method, path, **kwargs)
        if response.status_code not in wanted:
            raise AdminApiError(
                f"{method} {path} in realm {self.partner.realm} answered HTTP {response.status_code}: "
                f"{response.text[:200]}",
                {"status": response.status_code},
            )
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.partner.idp_url}/admin/realms/{self.partner.realm}{path}"
        for attempt in range(2):  # an expired admin token is refreshed once
            response = _send(
                self._http, method, url, headers={"Authorization": f"Bearer {self._admin_token()}"}, **kwargs
            )
            if response.status_code != 401 or attempt:
                return response
            self._token = None
        return response

    def _admin_token(self) -> str:
        if self._token is None:
            url = f"{self.partner.idp_url}/realms/master/protocol/openid-connect/token"
            form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": self._password}
            response = _send(self._http, "POST", url, data=form)
            if response.status_code != 200:
                raise AdminApiError(
                    f"the idp of {self.partner.display} refused the admin credentials (HTTP {response.status_code})",
                    remediation=f"dive --instance {self.partner.code} secrets load",
                )
            self._token = str(response.json()["access_token"])
        return self._token


def _send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.request(method, url, timeout=_TIMEOUT_S, **kwargs)
    except httpx.TransportError as exc:
        raise PartnerUnreachableError(f"{url.split('/realms/')[0]} is unreachable: {exc}") from exc
