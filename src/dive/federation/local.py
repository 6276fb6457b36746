"""Federation as seen from one deployment home (orchestration §1.3, §8.1): the partners on this host, their admin
clients (credentials from the local keystore), the pair secrets and the instance databases."""

from __future__ import annotations

import secrets as random_secrets
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from dive import catalog
from dive.federation.errors import FederationError
from dive.federation.idp_admin import IdpAdminClient
from dive.federation.linking import LinkSide
from dive.federation.partners import Partner, local_partner
from dive.pki import PkiError, ca_bundle_path, ssl_context_for
from dive.secrets import LocalKeystore
from dive.store.instance_url import db_password_path, deployment_database_url, postgres_server_url

__all__ = ["LocalFederation", "pair_secret_path"]


def pair_secret_path(first: str, second: str) -> str:
    """`_federation/<a>-<b>` with the codes sorted (§8.1)."""
    a, b = sorted((first.lower(), second.lower()))
    return f"_federation/{a}-{b}"


@dataclass(frozen=True)
class LocalFederation:
    home: Path
    environ: Mapping[str, str]

    @property
    def keystore(self) -> LocalKeystore:
        return LocalKeystore(self.home)

    def partner(self, code: str) -> Partner:
        return local_partner(code, self.environ)

    def database_url(self, code: str) -> str:
        """Embedded file, or `dive_<c>` as its owner role on the PostgreSQL server of DIVE_DATABASE_URL."""
        code = catalog.normalize_code(code)
        password = self.keystore.get(db_password_path(code)) if postgres_server_url(self.environ) else None
        return deployment_database_url(self.environ, self.home, code, password)

    def has_database(self, code: str) -> bool:
        url = self.database_url(code)
        return (
            not url.startswith("sqlite") or (self.home / "instances" / code.lower() / "data" / "instance.db").exists()
        )

    def admin_password(self, code: str) -> str | None:
        return self.keystore.get(f"{code.lower()}/idp-admin-password")

    def ensure_pair_secret(self, first: str, second: str) -> str:
        return self.keystore.ensure(pair_secret_path(first, second), lambda: random_secrets.token_urlsafe(32))

    def tls(self) -> ssl.SSLContext:
        try:
            return ssl_context_for(ca_bundle_path(self.home))
        except PkiError as exc:
            raise FederationError(
                f"the deployment CA bundle is unusable: {exc}", remediation="dive hub deploy"
            ) from exc

    @contextmanager
    def http(self) -> Iterator[httpx.Client]:
        with httpx.Client(verify=self.tls(), timeout=10.0) as client:
            yield client

    def admin(self, code: str, http: httpx.Client) -> IdpAdminClient | None:
        """The admin client of a partner whose admin password is in this keystore, else None."""
        password = self.admin_password(code)
        return None if password is None else IdpAdminClient(self.partner(code), password, http)

    def side(self, code: str, http: httpx.Client) -> LinkSide:
        admin = self.admin(code, http)
        if admin is None:
            raise FederationError(
                f"no admin credentials for {code.upper()} in this keystore ({code.lower()}/idp-admin-password)",
                remediation=f"run this on the host of {code.upper()}",
            )
        return LinkSide(self.partner(code), admin)
