"""A minimal ZTDF decoder written from spec/ztdf-kas.md §2–§5 alone (§15 item 3); it never imports dive.ztdf.

It exists to catch a writer and reader that agree with each other but not with the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


class DecodeError(Exception):
    pass


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _raw_or_hex_equal(stored: bytes, mac: bytes) -> bool:
    if len(stored) == len(mac):
        return hmac.compare_digest(stored, mac)
    return len(stored) == 2 * len(mac) and hmac.compare_digest(stored.lower(), mac.hex().encode())


def _dek(manifest: Mapping, private_keys: Mapping[str, rsa.RSAPrivateKey]) -> bytes:
    """One split key per sid group (anyOf inside a group, XOR across groups), each binding checked (§3.4, §6.1)."""
    info = manifest["encryptionInformation"]
    policy: str = info["policy"]
    groups: dict[str, bytes] = {}
    for kao in info["keyAccess"]:
        sid = kao.get("sid", "")
        if sid in groups or kao.get("kid") not in private_keys:
            continue
        split_key = private_keys[kao["kid"]].decrypt(base64.b64decode(kao["wrappedKey"]), OAEP)
        binding = kao["policyBinding"]
        stored = base64.b64decode(binding["hash"] if isinstance(binding, dict) else binding)
        if not _raw_or_hex_equal(stored, _mac(split_key, policy.encode("ascii"))):
            raise DecodeError("policy binding mismatch")
        groups[sid] = split_key
    if {kao.get("sid", "") for kao in info["keyAccess"]} != set(groups):
        raise DecodeError("a split group has no key")
    dek = bytes(32)
    for share in groups.values():
        dek = bytes(a ^ b for a, b in zip(dek, share, strict=True))
    return dek


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _verify_assertion(assertion: Mapping, dek: bytes, aggregate: bytes, hex_form: bool) -> None:
    """§5.4: JWS HS256 keyed by the DEK over {assertionHash, assertionSig}."""
    statement = dict(assertion["statement"])
    if isinstance(statement.get("value"), dict):
        statement["value"] = _canonical(statement["value"])
    hashed = {k: assertion[k] for k in ("id", "type", "scope", "appliesToState") if assertion.get(k)}
    hashed["statement"] = {k: statement[k] for k in ("format", "schema", "value") if statement.get(k)}
    digest = hashlib.sha256(_canonical(hashed).encode()).hexdigest()
    expected_sig = base64.b64encode(aggregate + (digest.encode() if hex_form else bytes.fromhex(digest))).decode()
    header, payload, signature = assertion["binding"]["signature"].split(".")

    def unb64url(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    if json.loads(unb64url(header)) != {"alg": "HS256"}:
        raise DecodeError("unexpected JWS header")
    if not hmac.compare_digest(unb64url(signature), _mac(dek, f"{header}.{payload}".encode())):
        raise DecodeError("assertion JWS signature")
    claims = json.loads(unb64url(payload))
    if claims != {"assertionHash": digest, "assertionSig": expected_sig}:
        raise DecodeError("assertion claims")


def decode(ztdf: bytes, private_keys: Mapping[str, rsa.RSAPrivateKey]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(ztdf)) as archive:
        manifest = json.loads(archive.read("0.manifest.json"))
        payload = archive.read(manifest["payload"]["url"])
    dek = _dek(manifest, private_keys)
    integrity = manifest["encryptionInformation"]["integrityInformation"]
    if (
        integrity["segmentHashAlg"] != "GMAC"
        or manifest["encryptionInformation"]["method"]["algorithm"] != "AES-256-GCM"
    ):
        raise DecodeError("unsupported algorithm")
    stored = [base64.b64decode(s["hash"]) for s in integrity["segments"]]
    hex_form = all(len(h) == 32 for h in stored)
    aggregate = b"".join(stored)
    if not _raw_or_hex_equal(base64.b64decode(integrity["rootSignature"]["sig"]), _mac(dek, aggregate)):
        raise DecodeError("root signature")
    for assertion in manifest.get("assertions", []):
        _verify_assertion(assertion, dek, aggregate, hex_form)
    plaintext, offset, aead = [], 0, AESGCM(dek)
    for segment, digest in zip(integrity["segments"], stored, strict=True):
        chunk = payload[offset : offset + segment["encryptedSegmentSize"]]
        offset += len(chunk)
        tag = chunk[-16:]
        if not hmac.compare_digest(tag.hex().encode() if hex_form else tag, digest):
            raise DecodeError("segment hash")
        plaintext.append(aead.decrypt(chunk[:12], chunk[12:], None))
    if offset != len(payload):
        raise DecodeError("trailing payload bytes")
    return b"".join(plaintext)
