"""Policy binding, segment hashes and root signature (spec/ztdf-kas.md §3.3, §3.4).

OpenTDF SDKs still write bindings as hex of the MAC, and legacy files hash segments in hex form, so every
check accepts the raw and the hex form; the writer emits raw.
"""

from __future__ import annotations

import hmac

from .crypto import TAG_BYTES, hmac_sha256
from .encoding import b64decode, b64encode, is_hex_form, matches_raw_or_hex
from .errors import ManifestInvalidError, RootSignatureError
from .manifest import IntegrityInformation

__all__ = [
    "SegmentHashes",
    "compute_policy_binding",
    "compute_root_signature",
    "compute_segment_hash",
    "is_policy_binding_valid",
    "read_segment_hashes",
    "verify_root_signature",
]

_RAW_LENGTH = {"GMAC": TAG_BYTES, "HS256": 32}


def compute_policy_binding(split_key: bytes, policy: str) -> str:
    """b64(HMAC-SHA256(split key, the ASCII of the base64 policy string)), the raw form DIVE writes."""
    return b64encode(hmac_sha256(split_key, policy.encode("ascii")))


def is_policy_binding_valid(binding_hash: str, split_key: bytes, policy: str) -> bool:
    try:
        stored = b64decode(binding_hash)
        mac = hmac_sha256(split_key, policy.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return matches_raw_or_hex(stored, mac)


def compute_segment_hash(alg: str, dek: bytes, encrypted_segment: bytes) -> bytes:
    """GMAC: the 16-byte GCM tag; HS256 (read only): HMAC-SHA256(DEK, E_i)."""
    if alg == "GMAC":
        return encrypted_segment[-TAG_BYTES:]
    return hmac_sha256(dek, encrypted_segment)


class SegmentHashes:
    """The decoded segment hashes of one file, and whether the file uses the legacy hex form."""

    def __init__(self, stored: tuple[bytes, ...], hex_form: bool) -> None:
        self.stored = stored
        self.hex_form = hex_form

    @property
    def aggregate(self) -> bytes:
        """A: the decoded hashes as stored (raw bytes or ASCII hex), concatenated."""
        return b"".join(self.stored)

    def matches(self, index: int, computed: bytes) -> bool:
        expected = computed.hex().encode("ascii") if self.hex_form else computed
        return hmac.compare_digest(self.stored[index].lower() if self.hex_form else self.stored[index], expected)


def read_segment_hashes(integrity: IntegrityInformation) -> SegmentHashes:
    raw_length = _RAW_LENGTH[integrity.segment_hash_alg]
    try:
        stored = tuple(b64decode(s.hash) for s in integrity.segments)
    except ValueError as exc:
        raise ManifestInvalidError(f"a segment hash is not base64: {exc}") from exc
    hex_form = all(is_hex_form(h, raw_length) for h in stored)
    if not hex_form and any(len(h) != raw_length for h in stored):
        raise ManifestInvalidError(f"segment hashes must be {raw_length} bytes or their hex form")
    return SegmentHashes(stored, hex_form)


def compute_root_signature(dek: bytes, aggregate: bytes) -> str:
    return b64encode(hmac_sha256(dek, aggregate))


def verify_root_signature(integrity: IntegrityInformation, hashes: SegmentHashes, dek: bytes) -> None:
    """M = HMAC-SHA256(DEK, A); the signature is M (32 bytes) or hex(M) (64 hex characters)."""
    try:
        signature = b64decode(integrity.root_signature)
    except ValueError as exc:
        raise RootSignatureError("the root signature is not base64") from exc
    if not matches_raw_or_hex(signature, hmac_sha256(dek, hashes.aggregate)):
        raise RootSignatureError(
            "the root signature does not match the segments — segments were removed, reordered or replaced"
        )
