"""Client-side TLS that verifies against the deployment CA bundle (`DIVE_CA_BUNDLE`, CONSISTENCY #19)."""

from __future__ import annotations

import ssl
from pathlib import Path

from dive.pki.errors import CaBundleMissingError

__all__ = ["TrustStore", "ssl_context_for"]


def ssl_context_for(ca_bundle: Path) -> ssl.SSLContext:
    """A verifying client context (host names checked) that trusts exactly the CAs in `ca_bundle`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies and checks host names; no system CAs
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_bundle(context, ca_bundle)
    return context


class TrustStore:
    """One client context for a service's lifetime that picks up partner CAs appended to the bundle.

    Services must notice a changed bundle without a restart (orchestration §9.4). Clients built on
    `context` keep it, so `refresh()` loads the file again into the same context; CAs are only added.
    """

    def __init__(self, ca_bundle: Path) -> None:
        self.ca_bundle = ca_bundle
        self.context = ssl_context_for(ca_bundle)
        self._mtime_ns = ca_bundle.stat().st_mtime_ns

    def refresh(self) -> bool:
        """Reload the bundle if it changed since the last load; True when it did."""
        try:
            mtime_ns = self.ca_bundle.stat().st_mtime_ns
        except FileNotFoundError:
            return False  # keep what we trust; a bundle being replaced reappears under the same name
        if mtime_ns == self._mtime_ns:
            return False
        _load_bundle(self.context, self.ca_bundle)
        self._mtime_ns = mtime_ns
        return True


def _load_bundle(context: ssl.SSLContext, ca_bundle: Path) -> None:
    try:
        context.load_verify_locations(cafile=str(ca_bundle))
    except FileNotFoundError as exc:
        raise CaBundleMissingError(
            f"CA bundle {ca_bundle} does not exist; deploy the instance first or set DIVE_CA_BUNDLE"
        ) from exc
    except ssl.SSLError as exc:
        raise CaBundleMissingError(f"CA bundle {ca_bundle} holds no readable certificate ({exc})") from exc
