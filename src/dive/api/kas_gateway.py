"""Opening a document through its KAS (identity-api-ui §B.5.4; spec/ztdf-kas.md §6.3, §3.6).

The key is released by the document's KAS, which re-checks the policy with the user's own token; the api then
verifies every binding, the root signature, the assertions and each segment before a byte leaves. Blocking work
(RSA, AES, HTTP to the KAS) runs in a worker thread with a sync client.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from typing import Final

import anyio
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.api.circuit import CircuitBreakers
from dive.api.errors import ForbiddenError, IntegrityCheckError, UnavailableError, UpstreamError
from dive.kas.client import KasClient, normalize_kas_url
from dive.ztdf import IntegrityError, KeyUnavailableError, KeyUnwrapError, ZtdfError, open_ztdf, unlock

__all__ = ["KasGateway"]

SESSION_KEY_LIFETIME_S: Final = 15 * 60  # ztdf-kas §6.3: one process-local key pair, rotated every 15 minutes
VERIFY_FIRST_BYTES: Final = 8 * 1024 * 1024
_RETRYABLE: Final = frozenset({"kas_unavailable"})


class KasGateway:
    def __init__(self, *, http: httpx.Client, circuits: CircuitBreakers, own_kas_url: str | None) -> None:
        self._http, self._circuits, self._own = http, circuits, own_kas_url
        self._key: rsa.RSAPrivateKey | None = None
        self._key_born = 0.0
        self._key_lock = threading.Lock()

    async def open(self, archive: bytes, token: str, allowed_urls: Sequence[str]) -> bytes:
        """The verified plaintext, or: 503 `kas_unavailable`, 502 `kas_error`, 403 (KAS deny), 500 integrity."""
        return await anyio.to_thread.run_sync(self._open, archive, token, list(allowed_urls))

    def _open(self, archive: bytes, token: str, allowed_urls: list[str]) -> bytes:
        container = open_ztdf(io.BytesIO(archive))
        urls = [normalize_kas_url(kao.url) for kao in container.manifest.key_access]
        open_urls = [url for url in urls if self._circuits.allow(url)]
        if not open_urls:
            raise _kas_unavailable(urls[0] if urls else "")
        client = KasClient(http=self._http, token=token, allowed_urls=allowed_urls, client_key=self._session_key())
        try:
            unlocked = unlock(container, client, preferred_urls=[u for u in (self._own,) if u])
            chunks = unlocked.iter_plaintext(verify_all_first=len(archive) <= VERIFY_FIRST_BYTES)
            plaintext = b"".join(chunks)
        except KeyUnavailableError as exc:
            raise self._key_failure(exc, open_urls) from exc
        except (IntegrityError, KeyUnwrapError) as exc:
            raise IntegrityCheckError() from exc
        except ZtdfError as exc:
            raise IntegrityCheckError() from exc
        for url in open_urls:
            self._circuits.succeeded(url)
        return plaintext

    def _key_failure(self, exc: KeyUnavailableError, urls: list[str]) -> Exception:
        causes = [c for c in exc.detail.get("causes", []) if isinstance(c, dict)]  # type: ignore[union-attr]
        codes = {str(cause.get("code")) for cause in causes}
        if "policy_denied" in codes:
            reason = exc.message.partition(": ")[2] or "The key access service denied the key."
            return ForbiddenError("access_denied", reason, details={"source": "kas", "reason": reason})
        unreachable = [str(c.get("url")) for c in causes if c.get("code") in _RETRYABLE]
        for url in unreachable:
            self._circuits.failed(normalize_kas_url(url))
        if unreachable:
            return _kas_unavailable(unreachable[0])
        if codes <= {"kas_not_trusted"}:
            return UpstreamError("kas_error", "No key access service of this document is trusted by this instance.")
        return UpstreamError(
            "kas_error", f"The key access service could not release the key ({', '.join(sorted(codes))})."
        )

    def _session_key(self) -> rsa.RSAPrivateKey:
        with self._key_lock:
            if self._key is None or time.monotonic() - self._key_born >= SESSION_KEY_LIFETIME_S:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._key_born = time.monotonic()
            return self._key


def _kas_unavailable(url: str) -> UnavailableError:
    return UnavailableError(
        "kas_unavailable",
        f"The key access service for this document ({url}) is unreachable; try again later.",
        details={"kasUrl": url},
    )
