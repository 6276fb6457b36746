"""Assertion hash and JWS binding (spec/ztdf-kas.md §5.3, §5.4)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from .crypto import hmac_sha256
from .encoding import b64encode, b64url_decode, b64url_encode
from .errors import AssertionInvalidError
from .manifest import Assertion, AssertionStatement

__all__ = [
    "LABEL_ASSERTION_ID",
    "assertion_hash",
    "assertion_signature",
    "bind_assertion",
    "canonical_json",
    "verify_assertion",
]

LABEL_ASSERTION_ID = "stanag4774-label"
_JWS_HEADER = b64url_encode(b'{"alg":"HS256"}')


def canonical_json(value: object) -> str:
    """RFC 8785 for our content (no floats): sorted keys, compact separators, raw UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hash_object(assertion: Assertion) -> dict[str, object]:
    statement: dict[str, object] = {}
    value = assertion.statement.value
    if isinstance(value, Mapping):
        value = canonical_json(value)
    for key, item in (("format", assertion.statement.format), ("schema", assertion.statement.schema), ("value", value)):
        if item:
            statement[key] = item
    hashed: dict[str, object] = {"id": assertion.id, "type": assertion.type, "scope": assertion.scope}
    if assertion.applies_to_state:
        hashed["appliesToState"] = assertion.applies_to_state
    hashed["statement"] = statement
    return hashed


def assertion_hash(assertion: Assertion) -> str:
    """hex(SHA-256(C(hash object))), the object value replaced by its canonical JSON string (§5.4 steps 1–3)."""
    return hashlib.sha256(canonical_json(_hash_object(assertion)).encode("utf-8")).hexdigest()


def assertion_signature(aggregate: bytes, digest_hex: str, *, hex_form: bool) -> str:
    """Raw form b64(A ‖ SHA-256 digest); legacy form b64(A_hex ‖ assertionHash) in ASCII (§5.4 step 4)."""
    tail = digest_hex.encode("ascii") if hex_form else bytes.fromhex(digest_hex)
    return b64encode(aggregate + tail)


def _claims_json(digest_hex: str, signature: str) -> bytes:
    return json.dumps({"assertionHash": digest_hex, "assertionSig": signature}, separators=(",", ":")).encode()


def bind_assertion(
    *, assertion_id: str, statement: AssertionStatement, dek: bytes, aggregate: bytes, kind: str = "handling"
) -> Assertion:
    """A `tdo` assertion with its JWS binding keyed by the DEK over hash and payload aggregate (§5.3)."""
    unbound = Assertion(assertion_id, kind, "tdo", "unencrypted", statement, "jws", "")
    digest = assertion_hash(unbound)
    claims = _claims_json(digest, assertion_signature(aggregate, digest, hex_form=False))
    signing_input = f"{_JWS_HEADER}.{b64url_encode(claims)}"
    jws = f"{signing_input}.{b64url_encode(hmac_sha256(dek, signing_input.encode('ascii')))}"
    return Assertion(assertion_id, kind, "tdo", "unencrypted", statement, "jws", jws)


def _jws_claims(assertion: Assertion, dek: bytes) -> Mapping[str, object]:
    parts = assertion.binding_signature.split(".")
    if assertion.binding_method.lower() != "jws" or len(parts) != 3:
        raise AssertionInvalidError(f"assertion {assertion.id!r}: the binding is not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise AssertionInvalidError(f"assertion {assertion.id!r}: the JWS is malformed") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise AssertionInvalidError(f"assertion {assertion.id!r}: only HS256 bindings keyed by the DEK verify")
    expected = hmac_sha256(dek, f"{parts[0]}.{parts[1]}".encode("ascii"))
    if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        raise AssertionInvalidError(f"assertion {assertion.id!r}: the JWS signature does not verify")
    return claims


def verify_assertion(assertion: Assertion, dek: bytes, aggregate: bytes, hex_form: bool) -> None:
    """Both claims must equal the values recomputed from the assertion and the segment hashes (§5.4)."""
    claims = _jws_claims(assertion, dek)
    digest = assertion_hash(assertion)
    expected_sig = assertion_signature(aggregate, digest, hex_form=hex_form)
    if claims.get("assertionHash") != digest:
        raise AssertionInvalidError(f"assertion {assertion.id!r}: its content does not match its bound hash")
    if claims.get("assertionSig") != expected_sig:
        raise AssertionInvalidError(f"assertion {assertion.id!r}: it is not bound to this payload")
