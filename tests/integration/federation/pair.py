"""Two real idp processes (USA hub, FRA spoke) on their catalog ports under one port shift, with minimal realms,
the admin passwords in the local keystore and the hub's instance database, as a deployment host has them."""

from __future__ import annotations

import base64
import os
import random
import socket
import ssl
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from dive import catalog
from dive.federation.records import instance_session
from dive.secrets import LocalKeystore
from dive.store import FederationRegistryRepository, ensure_schema, instance_database_url
from dive.store.models import FederationSpoke
from harness import ServiceProcess, start_service

ADMIN_PASSWORD = "Admin-pass-1234567!"
PASSWORD = "Test-user-pass-123!"
APP_REDIRECT = "https://localhost:3000/auth/callback"
_UNCLASSIFIED = {"usa": "UNCLASSIFIED", "fra": "NON PROTEGE"}  # no TOTP enrolment at AAL1


@dataclass
class Pair:
    home: Path
    shift: int
    keys: dict[str, str]

    @property
    def environ(self) -> dict[str, str]:
        return {**os.environ, "DIVE_HOME": str(self.home), "DIVE_PORT_SHIFT": str(self.shift), "DIVE_ENV": "test"}

    def url(self, code: str) -> str:
        return f"https://localhost:{catalog.port(code, 'idp', shift=self.shift)}"

    def start(self, code: str) -> ServiceProcess:
        port = catalog.port(code, "idp", shift=self.shift)
        upper = code.upper()
        env = {f"DIVE_SECRET_{upper}_DATA_PROTECTION_KEY": self.keys[code],
               f"DIVE_SECRET_{upper}_IDP_ADMIN_PASSWORD": ADMIN_PASSWORD, "DIVE_PORT_SHIFT": str(self.shift),
               "DIVE_IDP_ARGON2_TIME_COST": "1", "DIVE_IDP_ARGON2_MEMORY_KIB": "1024"}  # fmt: skip
        return start_service("idp", code, home=self.home, env=env, port=port, timeout_s=60)

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.home / "pki" / "bundle.pem"))

    def dive(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "dive", "--home", str(self.home), *args]
        return subprocess.run(command, capture_output=True, text=True, env={**self.environ, **(env or {})}, timeout=110)


def free_shift() -> int:
    """A port shift under which both idps' catalog ports are free now."""
    for _ in range(50):
        shift = random.randrange(20000, 55000, 100)
        if all(_free(catalog.port(c, "idp", shift=shift)) for c in ("usa", "fra")):
            return shift
    raise RuntimeError("no free port shift found")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def new_pair(home: Path) -> Pair:
    home.mkdir(mode=0o700, exist_ok=True)
    keystore = LocalKeystore(home)
    for code in ("usa", "fra"):
        keystore.put(f"{code}/idp-admin-password", ADMIN_PASSWORD, overwrite=True)
    ensure_schema(instance_database_url(home, "usa"))
    keys = {c: base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=") for c in ("usa", "fra")}
    return Pair(home=home, shift=free_shift(), keys=keys)


def create_realm(pair: Pair, code: str) -> None:
    """The instance realm with its app client (one exact redirect URI) and one test user."""
    base = pair.url(code)
    with httpx.Client(verify=pair.tls(), base_url=base) as client:
        token = client.post("/realms/master/protocol/openid-connect/token",
                            data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                  "password": ADMIN_PASSWORD}).json()["access_token"]  # fmt: skip
        user = {"username": f"testuser-{code}-1", "email": f"one@{code}.example",
                "attributes": {"uniqueID": [f"testuser-{code}-1"], "clearance": [_UNCLASSIFIED[code]],
                               "countryOfAffiliation": [code.upper()], "acpCOI": ["NATO"]},
                "credentials": [{"type": "password", "value": PASSWORD}]}  # fmt: skip
        realm = {"realm": catalog.realm(code), "enabled": True, "users": [user],
                 "clients": [{"clientId": catalog.client_id(code), "secret": "app-secret-" + "a" * 30,
                              "redirectUris": [APP_REDIRECT],
                              "attributes": {"pkce.code.challenge.method": "S256"}}]}  # fmt: skip
        answer = client.post("/admin/realms", json=realm, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201, answer.text


def register_approved(pair: Pair, code: str) -> None:
    """The hub registry row of `code`, approved, as approval leaves it."""
    issuer = f"{pair.url(code)}/realms/{catalog.realm(code)}"
    with instance_session(instance_database_url(pair.home, "usa")) as session:
        spoke = FederationSpoke(
            code=code,
            spoke_id=f"spoke-{code}-00000000",
            role="spoke",
            kind="local",
            status="approved",
            api_url="https://localhost:1",
            web_url="https://localhost:1",
            idp_url=pair.url(code),
            kas_url="https://localhost:1/kas",
            issuer=issuer,
            jwks_uri=f"{issuer}/protocol/openid-connect/certs",
        )
        FederationRegistryRepository().save_spoke(session, spoke)
