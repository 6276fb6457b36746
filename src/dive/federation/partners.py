"""Where a federation partner's services answer, and the names its link objects take (orchestration §1.2, §8.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dive import catalog

__all__ = ["Partner", "local_partner"]


@dataclass(frozen=True, kw_only=True)
class Partner:
    """One instance as a partner sees it. URLs are base URLs without a trailing slash."""

    code: str  # lower case
    idp_url: str
    api_url: str
    kas_url: str

    @property
    def display(self) -> str:
        return self.code.upper()

    @property
    def realm(self) -> str:
        return catalog.realm(self.code)

    @property
    def issuer(self) -> str:
        return f"{self.idp_url}/realms/{self.realm}"

    @property
    def alias(self) -> str:
        """The alias of this partner's identity provider in any other realm (`fra-idp`)."""
        return catalog.idp_alias(self.code)

    @property
    def client_id(self) -> str:
        """The federation client for this partner in any other realm, and its app client in its own realm."""
        return catalog.client_id(self.code)

    def broker_endpoint(self, source: Partner) -> str:
        """Where `source`'s users come back to this instance after signing in at `source` (§8.1)."""
        return f"{self.issuer}/broker/{source.alias}/endpoint"


def local_partner(code: str, environ: Mapping[str, str]) -> Partner:
    """The catalog URLs of `code` on this host (`DIVE_PUBLIC_HOST`, `DIVE_PORT_SHIFT`)."""
    code = catalog.normalize_code(code)
    host, shift = environ.get("DIVE_PUBLIC_HOST") or "localhost", catalog.port_shift(environ)
    return Partner(
        code=code,
        idp_url=f"https://{host}:{catalog.port(code, 'idp', shift=shift)}",
        api_url=f"https://{host}:{catalog.port(code, 'api', shift=shift)}",
        kas_url=catalog.kas_url(code, host=host, shift=shift),
    )
