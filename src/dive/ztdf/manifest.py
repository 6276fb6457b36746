"""The ZTDF manifest as typed values (spec/ztdf-kas.md §2.2), and its JSON form as the DIVE writer emits it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "SPEC_VERSION",
    "Assertion",
    "AssertionStatement",
    "IntegrityInformation",
    "KeyAccessObject",
    "Manifest",
    "Segment",
    "manifest_to_json",
]

SPEC_VERSION = "4.3.0"


@dataclass(frozen=True)
class KeyAccessObject:
    type: str
    url: str
    protocol: str
    wrapped_key: str
    binding_alg: str
    binding_hash: str
    kid: str = ""
    sid: str = ""
    encrypted_metadata: str = ""


@dataclass(frozen=True)
class Segment:
    hash: str
    segment_size: int
    encrypted_segment_size: int


@dataclass(frozen=True)
class IntegrityInformation:
    root_signature_alg: str
    root_signature: str
    segment_hash_alg: str
    segment_size_default: int
    encrypted_segment_size_default: int
    segments: tuple[Segment, ...]

    @property
    def payload_size(self) -> int:
        return sum(s.encrypted_segment_size for s in self.segments)


@dataclass(frozen=True)
class AssertionStatement:
    format: str
    schema: str
    value: str | Mapping[str, object]


@dataclass(frozen=True)
class Assertion:
    id: str
    type: str
    scope: str
    applies_to_state: str
    statement: AssertionStatement
    binding_method: str
    binding_signature: str


@dataclass(frozen=True)
class Manifest:
    tdf_spec_version: str | None
    schema_version: str | None
    payload_url: str
    payload_protocol: str
    mime_type: str
    key_access: tuple[KeyAccessObject, ...]
    method_algorithm: str
    method_iv: str
    integrity: IntegrityInformation
    policy: str
    assertions: tuple[Assertion, ...] = ()

    @property
    def is_legacy(self) -> bool:
        """No version field at all: an OpenTDF file written before 4.3.0 (hex bindings and hashes)."""
        return self.tdf_spec_version is None and self.schema_version is None


def _kao_json(kao: KeyAccessObject) -> dict[str, object]:
    return {
        "type": kao.type,
        "url": kao.url,
        "protocol": kao.protocol,
        "wrappedKey": kao.wrapped_key,
        "policyBinding": {"alg": kao.binding_alg, "hash": kao.binding_hash},
        "kid": kao.kid,
        "sid": kao.sid,
    }


def _assertion_json(assertion: Assertion) -> dict[str, object]:
    return {
        "id": assertion.id,
        "type": assertion.type,
        "scope": assertion.scope,
        "appliesToState": assertion.applies_to_state,
        "statement": {
            "format": assertion.statement.format,
            "schema": assertion.statement.schema,
            "value": assertion.statement.value,
        },
        "binding": {"method": assertion.binding_method, "signature": assertion.binding_signature},
    }


def _integrity_json(integrity: IntegrityInformation) -> dict[str, object]:
    return {
        "rootSignature": {"alg": integrity.root_signature_alg, "sig": integrity.root_signature},
        "segmentHashAlg": integrity.segment_hash_alg,
        "segmentSizeDefault": integrity.segment_size_default,
        "encryptedSegmentSizeDefault": integrity.encrypted_segment_size_default,
        "segments": [
            {"hash": s.hash, "segmentSize": s.segment_size, "encryptedSegmentSize": s.encrypted_segment_size}
            for s in integrity.segments
        ],
    }


def manifest_to_json(manifest: Manifest) -> bytes:
    """Compact JSON, keys in the order of spec §2.3; both version fields and `payload.tdf_spec_version`."""
    document = {
        "tdf_spec_version": SPEC_VERSION,
        "schemaVersion": SPEC_VERSION,
        "payload": {
            "type": "reference",
            "url": manifest.payload_url,
            "protocol": manifest.payload_protocol,
            "isEncrypted": True,
            "mimeType": manifest.mime_type,
            "tdf_spec_version": SPEC_VERSION,
        },
        "encryptionInformation": {
            "type": "split",
            "keyAccess": [_kao_json(kao) for kao in manifest.key_access],
            "method": {"algorithm": manifest.method_algorithm, "isStreamable": True, "iv": manifest.method_iv},
            "integrityInformation": _integrity_json(manifest.integrity),
            "policy": manifest.policy,
        },
        "assertions": [_assertion_json(a) for a in manifest.assertions],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
