"""Test stand-ins for a partner's identity provider: a fast idp environment, an admin client, and a JWKS endpoint.

Shared by the idp, api, kas and e2e suites so that each fakes a partner the same way.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from dive.pki import ensure_service_certificate
from harness import pick_free_port

__all__ = ["ADMIN_PASSWORD", "admin_client", "fast_idp_environment", "serve_jwks"]

ADMIN_PASSWORD: Final = "Admin-pass-1234567!"


def fast_idp_environment(code: str) -> dict[str, str]:
    """Secrets for an idp of `code` (upper case) and a cheap argon2id, so tests do not wait on password hashing."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return {f"DIVE_SECRET_{code}_DATA_PROTECTION_KEY": key, f"DIVE_SECRET_{code}_IDP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DIVE_IDP_ARGON2_TIME_COST": "1", "DIVE_IDP_ARGON2_MEMORY_KIB": "1024"}  # fmt: skip


def admin_client(base: str, ca: ssl.SSLContext) -> httpx.Client:
    """An httpx client for the admin REST API of the idp at `base`, signed in as the master realm's admin."""
    with httpx.Client(verify=ca) as client:
        token = client.post(f"{base}/realms/master/protocol/openid-connect/token",
                            data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                  "password": ADMIN_PASSWORD}).json()["access_token"]  # fmt: skip
    return httpx.Client(verify=ca, base_url=base, headers={"Authorization": f"Bearer {token}"})


def serve_jwks(home: Path, code: str, key: rsa.RSAPrivateKey, kid: str, hits: list[str]) -> ThreadingHTTPServer:
    """An HTTPS server (certificate of `code`'s idp from the deployment CA) answering every GET with the JWKS of `key`;
    each request path is appended to `hits`. Stop it with `shutdown()`."""
    cert, cert_key = ensure_service_certificate(home, code.lower(), "idp", "localhost")
    jwks = json.dumps({"keys": [{**RSAKey.import_key(key.public_key()).as_dict(), "kid": kid, "use": "sig"}]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks.encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", pick_free_port()), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, cert_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
