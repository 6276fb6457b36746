"""A rewrap client that is a `dive.ztdf.KeySource` (spec/ztdf-kas.md §6.3, §7.3): one bulk request per KAS.

Used by `dive ztdf decrypt` and tests. The SRT is signed with the client's session key (strict mode); KAS URLs are
taken from the KAOs after the `url_map` rewrite, and a URL not in `allowed_urls` (when given) is never sent the token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Final

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from dive.kas.key_ring import public_key_pem
from dive.ztdf import KeyRequest, KeyResult, KeyUnwrapError, unwrap_split_key

__all__ = ["KasClient", "normalize_kas_url"]

REWRAP_PATH: Final = "/v2/rewrap"


def normalize_kas_url(url: str) -> str:
    """§6.4: lower-case scheme and host, default port dropped, no trailing `/`."""
    parsed = httpx.URL(url.strip())
    default = {"https": 443, "http": 80}.get(parsed.scheme.lower())
    port = "" if parsed.port in (None, default) else f":{parsed.port}"
    return f"{parsed.scheme.lower()}://{parsed.host.lower()}{port}{parsed.path.rstrip('/')}"


class KasClient:
    def __init__(
        self,
        *,
        http: httpx.Client,
        token: str,
        url_map: Mapping[str, str] | None = None,
        allowed_urls: Sequence[str] | None = None,
        client_key: rsa.RSAPrivateKey | None = None,
        rewrap_path: str = REWRAP_PATH,
    ) -> None:
        self._http, self._token, self._path = http, token, rewrap_path
        self._map = {normalize_kas_url(k): v.rstrip("/") for k, v in (url_map or {}).items()}
        self._allowed = None if allowed_urls is None else {normalize_kas_url(u) for u in allowed_urls}
        self._key = client_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._jwk = RSAKey.import_key(self._key)

    def unwrap(self, requests: Sequence[KeyRequest]) -> list[KeyResult]:
        by_kas: dict[str, list[KeyRequest]] = {}
        results: dict[int, KeyResult] = {}
        for request in requests:
            url = self._target(request.kao.url)
            if url is None:
                results[request.index] = KeyResult(request.index, code="kas_not_trusted", message=request.kao.url)
            else:
                by_kas.setdefault(url, []).append(request)
        for url, batch in by_kas.items():
            results.update({r.index: r for r in self._rewrap(url, batch)})
        return [results[request.index] for request in requests]

    def _target(self, kao_url: str) -> str | None:
        normalized = normalize_kas_url(kao_url) if kao_url else ""
        if normalized in self._map:
            return self._map[normalized]
        if self._allowed is not None and normalized not in self._allowed:
            return None
        return kao_url.rstrip("/") or None

    def _srt(self, batch: Sequence[KeyRequest]) -> str:
        groups: dict[str, list[KeyRequest]] = {}
        for request in batch:
            groups.setdefault(request.policy, []).append(request)
        body = {
            "clientPublicKey": public_key_pem(self._key.public_key()),
            "requests": [
                {
                    "algorithm": "rsa:2048",
                    "policy": {"id": f"policy-{n}", "body": policy},
                    "keyAccessObjects": [_kao_entry(r) for r in members],
                }
                for n, (policy, members) in enumerate(groups.items())
            ],
        }
        now = int(time.time())
        claims = {"requestBody": json.dumps(body), "iat": now, "exp": now + 60}
        payload = json.dumps(claims)
        registry = jws.JWSRegistry(algorithms=["RS256"])
        registry.max_payload_length = len(payload)  # bulk SRTs exceed joserfc's 125 kB default
        return jws.serialize_compact({"alg": "RS256"}, payload, self._jwk, registry=registry)

    def _rewrap(self, url: str, batch: Sequence[KeyRequest]) -> list[KeyResult]:
        try:
            response = self._http.post(
                url + self._path,
                json={"signedRequestToken": self._srt(batch)},
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.TransportError as exc:
            return [KeyResult(r.index, code="kas_unavailable", message=f"{url}: {exc}") for r in batch]
        if response.status_code != 200:
            code = _error_code(response)
            return [KeyResult(r.index, code=code, message=f"{url} answered {response.status_code}") for r in batch]
        found = _results_by_kao(response)
        return [self._result(r, found.get(f"kao-{r.index}")) for r in batch]

    def _result(self, request: KeyRequest, result: Mapping[str, object] | None) -> KeyResult:
        if result is None:
            return KeyResult(request.index, code="rewrap_failed", message="the KAS returned no result for this KAO")
        if result.get("status") != "permit":
            metadata = result.get("metadata") if isinstance(result.get("metadata"), dict) else {}
            code = str(metadata.get("errorCode") or "rewrap_failed")  # type: ignore[union-attr]
            return KeyResult(request.index, code=code, message=str(metadata.get("reason", "")))  # type: ignore[union-attr]
        try:
            return KeyResult(request.index, split_key=unwrap_split_key(self._key, str(result.get("kasWrappedKey"))))
        except (KeyUnwrapError, ValueError):
            return KeyResult(request.index, code="rewrap_failed", message="the returned key does not unwrap")


def _kao_entry(request: KeyRequest) -> dict[str, object]:
    kao = request.kao
    body: dict[str, object] = {
        "type": kao.type,
        "url": kao.url,
        "protocol": kao.protocol,
        "wrappedKey": kao.wrapped_key,
        "kid": kao.kid,
        "sid": kao.sid,
        "policyBinding": {"alg": kao.binding_alg or "HS256", "hash": kao.binding_hash},
    }
    return {"keyAccessObjectId": f"kao-{request.index}", "keyAccessObject": body}


def _error_code(response: httpx.Response) -> str:
    if response.status_code in (502, 503, 504):
        return "kas_unavailable"
    try:
        return str(response.json().get("error") or "kas_error")
    except ValueError:
        return "kas_error"


def _results_by_kao(response: httpx.Response) -> dict[str, Mapping[str, object]]:
    try:
        responses = response.json().get("responses", [])
        return {r["keyAccessObjectId"]: r for group in responses for r in group.get("results", [])}
    except (ValueError, AttributeError, KeyError, TypeError):
        return {}
