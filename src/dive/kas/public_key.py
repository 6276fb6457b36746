"""The public-key answers (spec/ztdf-kas.md §7.2): PEM SPKI or JWK of the single active key."""

from __future__ import annotations

import json

from joserfc.jwk import RSAKey

from dive.kas.errors import KasError
from dive.kas.key_ring import KeyRing, public_key_pem

__all__ = ["public_key_answer"]

SUPPORTED_ALGORITHM = "rsa:2048"


def public_key_answer(ring: KeyRing, *, algorithm: str, fmt: str, version: str) -> dict[str, str]:
    if algorithm not in ("", SUPPORTED_ALGORITHM, "rsa"):
        raise KasError("unsupported_algorithm", f"algorithm {algorithm!r} is not served; use rsa:2048", status=404)
    key = ring.active
    pem = public_key_pem(key.public_key)
    if fmt in ("", "pkcs8", "pem"):
        value = pem
    elif fmt == "jwk":
        value = json.dumps({**RSAKey.import_key(pem).as_dict(), "kid": key.kid}, separators=(",", ":"))
    else:
        raise KasError("request_invalid", f"fmt {fmt!r} is not pkcs8 or jwk", status=400)
    answer = {"publicKey": value}
    if version != "1":
        answer["kid"] = key.kid
    return answer
