"""A real `dive serve kas` process for USA with the golden-r1 key imported, and a test token issuer.

The issuer is a test-only RSA key; its JWKS is served over HTTPS (certificate from the deployment CA) by a tiny
server in this process, and it is registered as the approved FRA partner in the instance database. The real idp is
not needed: the KAS only sees a trusted issuer with a JWKS URI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from dive.store import FederationRegistryRepository, create_engine_for, instance_database_url, writer_session_factory
from dive.store.models import FederationSpoke
from harness import ServiceProcess, start_service
from partner_idp import serve_jwks

INTEROP = Path(os.environ.get("DIVE_INTEROP_DIR") or Path(__file__).resolve().parents[3] / ".." / "shared" / "interop")
GOLDEN = INTEROP / "opentdf-golden"


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey = field(repr=False)
    kid: str = "test-kid-1"
    jwks_hits: list[str] = field(default_factory=list)

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": "4c1e-fra-3",
            "aud": ["dive-v3-kas", "account"],
            "exp": now + 300,
            "iat": now,
            "uniqueID": "testuser-fra-3",
            "clearance": "SECRET",
            "countryOfAffiliation": "FRA",
            "acpCOI": ["NATO"],
            "organizationType": "GOV",
            "acr": "2",
            "amr": ["pwd", "otp"],
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return sign(claims, self.key, kid=self.kid)


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, *, kid: str, alg: str = "RS256") -> str:
    return jws.serialize_compact({"alg": alg, "kid": kid, "typ": "JWT"}, json.dumps(claims), RSAKey.import_key(key))


def _dive(home: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dive", *args, "--home", str(home)], check=True, capture_output=True)


def _register_partner(home: Path, issuer: str, jwks_uri: str) -> None:
    engine = create_engine_for(instance_database_url(home, "usa"))
    try:
        with writer_session_factory(engine).begin() as session:
            registry = FederationRegistryRepository()
            registry.save_spoke(
                session,
                FederationSpoke(
                    code="fra",
                    spoke_id="spoke-fra-test",
                    role="spoke",
                    kind="local",
                    status="approved",
                    api_url="https://localhost:4010/api",
                    web_url="https://localhost:3010",
                    idp_url="https://localhost:8453",
                    kas_url="https://localhost:9010/kas",
                    issuer=issuer,
                    jwks_uri=jwks_uri,
                ),
            )
            registry.set_matrix_pair(session, "usa", "fra", source="cli")
    finally:
        engine.dispose()


@dataclass
class KasDeployment:
    kas: ServiceProcess
    issuer: Issuer
    home: Path


@pytest.fixture(scope="session")
def kas_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KasDeployment]:
    if not GOLDEN.is_dir():
        pytest.skip(f"interop data not found at {GOLDEN}; set DIVE_INTEROP_DIR")
    home = tmp_path_factory.mktemp("kas") / "home"
    home.mkdir(mode=0o700)
    _dive(home, "kas", "rotate", "usa")
    _dive(
        home, "kas", "import-key", "usa", "--kid", "golden-r1", "--private-key", str(GOLDEN / "golden-r1-private.pem")
    )
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    hits: list[str] = []
    server = serve_jwks(home, "fra", issuer_key, "test-kid-1", hits)
    base = f"https://localhost:{server.server_address[1]}"
    issuer = Issuer(url=f"{base}/realms/dive-v3-broker-fra", key=issuer_key, jwks_hits=hits)
    _register_partner(home, issuer.url, f"{base}/jwks")
    env = {"DIVE_KAS_ALLOW_UNLABELLED_POLICIES": "true", "DIVE_KAS_DEK_CACHE_SIZE": "0"}
    kas = start_service("kas", "usa", home=home, env=env)
    try:
        yield KasDeployment(kas=kas, issuer=issuer, home=home)
    finally:
        kas.stop()
        server.shutdown()
        server.server_close()
