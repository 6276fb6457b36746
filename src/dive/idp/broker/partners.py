"""Calls to partner identity providers (§A.8 steps 3–4): the code exchange and the partner JWKS, cached by
(issuer, kid) and refreshed on an unknown kid at most once per 10 s per IdP. TLS is verified against
`DIVE_CA_BUNDLE`, re-read when the file changes (Amendment 3)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dive.idp.errors import BrokerError
from dive.idp.repository import IdentityProvider

__all__ = ["PartnerClient"]

TIMEOUT_S = 5.0
JWKS_REFRESH_S = 10.0


class PartnerClient:
    def __init__(
        self,
        ca_bundle: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        on_jwks_fetch: Callable[[], None] | None = None,
    ) -> None:
        self._ca_bundle = ca_bundle
        self._transport = transport
        self._client: httpx.Client | None = None
        self._ca_mtime: float | None = None
        self._keys: dict[tuple[str, str], RSAKey] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._on_jwks_fetch = on_jwks_fetch

    def _http(self) -> httpx.Client:
        mtime = self._ca_bundle.stat().st_mtime if self._ca_bundle.exists() else None
        with self._lock:
            if self._client is None or mtime != self._ca_mtime:
                if self._client is not None:
                    self._client.close()
                context = ssl.create_default_context(cafile=str(self._ca_bundle)) if mtime is not None else None
                self._client = httpx.Client(verify=context or True, timeout=TIMEOUT_S, transport=self._transport)
                self._ca_mtime = mtime
            return self._client

    def exchange_code(self, idp: IdentityProvider, *, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier}  # fmt: skip
        client_id, secret = idp.config("clientId") or "", idp.secret or ""
        auth: tuple[str, str] | None = None
        if idp.config("clientAuthMethod") == "client_secret_basic":
            auth = (client_id, secret)
        else:
            form.update(client_id=client_id, client_secret=secret)
        try:
            response = self._http().post(str(idp.config("tokenUrl")), data=form, auth=auth)
        except httpx.HTTPError as exc:  # refused, TLS failure or timeout: the partner is unreachable
            raise BrokerError("partner_unreachable", f"{idp.alias} token endpoint is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise BrokerError("upstream_code_exchange_failed",
                              f"{idp.alias} refused the code exchange with HTTP {response.status_code}")  # fmt: skip
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise BrokerError("upstream_code_exchange_failed", f"{idp.alias} returned no ID token")
        return body

    def find_key(self, idp: IdentityProvider, kid: str) -> RSAKey | None:
        issuer = idp.config("issuer") or ""
        key = self._keys.get((issuer, kid))
        if key is not None:
            return key
        last = self._fetched_at.get(idp.alias)
        if last is not None and time.monotonic() - last < JWKS_REFRESH_S:
            return None
        self._fetch_jwks(idp, issuer)
        return self._keys.get((issuer, kid))

    def _fetch_jwks(self, idp: IdentityProvider, issuer: str) -> None:
        self._fetched_at[idp.alias] = time.monotonic()
        if self._on_jwks_fetch is not None:
            self._on_jwks_fetch()
        try:
            response = self._http().get(str(idp.config("jwksUrl")))
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BrokerError("partner_unreachable", f"{idp.alias} JWKS cannot be fetched: {exc}") from exc
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or not jwk.get("kid"):
                continue
            try:
                self._keys[(issuer, str(jwk["kid"]))] = RSAKey.import_key(jwk)
            except (JoseError, ValueError):
                continue  # one malformed key must not hide the others

    def clear_keys(self) -> None:
        self._keys.clear()
        self._fetched_at.clear()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
