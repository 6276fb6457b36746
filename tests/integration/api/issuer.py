"""A test token issuer: an RSA key whose JWKS is served over HTTPS (deployment-CA certificate) by a tiny server.

The real idp is not needed: the api and the KAS only see a trusted issuer with a JWKS URI (as in tests/integration/kas).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from partner_idp import serve_jwks

KID = "api-test-kid"


@dataclass
class Issuer:
    url: str
    code: str
    key: rsa.RSAPrivateKey = field(repr=False)
    jwks_hits: list[str] = field(default_factory=list)

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": "sub-testuser-4",
            "aud": ["dive-v3-api", "dive-v3-kas"],
            "azp": f"dive-v3-broker-{self.code.lower()}",
            "typ": "Bearer",
            "exp": now + 600,
            "iat": now,
            "jti": f"jti-{now}-{id(overrides)}",
            "uniqueID": f"testuser-{self.code.lower()}-4",
            "clearance": "SECRET",
            "countryOfAffiliation": self.code.upper(),
            "acpCOI": ["NATO"],
            "organizationType": "GOV",
            "acr": "2",
            "amr": ["pwd", "otp"],
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return sign(claims, self.key)


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, *, kid: str = KID, alg: str = "RS256") -> str:
    return jws.serialize_compact({"alg": alg, "kid": kid, "typ": "JWT"}, json.dumps(claims), RSAKey.import_key(key))


def start_issuer(home: Path, code: str) -> tuple[Issuer, ThreadingHTTPServer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    hits: list[str] = []
    server = serve_jwks(home, code, key, KID, hits)
    url = f"https://localhost:{server.server_address[1]}/realms/dive-v3-broker-{code.lower()}"
    return Issuer(url=url, code=code.upper(), key=key, jwks_hits=hits), server
