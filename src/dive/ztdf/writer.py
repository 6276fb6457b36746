"""Writing a ZTDF file (spec/ztdf-kas.md §3.7): streaming, segmented, one fresh DEK per document."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .assertions import LABEL_ASSERTION_ID, bind_assertion
from .container import PAYLOAD_ENTRY, create_archive, write_manifest_entry, write_payload_entry
from .crypto import SEGMENT_OVERHEAD, encrypt_segment, load_public_key, new_dek, new_iv, split_dek, wrap_split_key
from .encoding import b64encode
from .errors import KasKeyUnavailableError, UnsupportedError, WriteOptionsError
from .integrity import compute_policy_binding, compute_root_signature, compute_segment_hash
from .label import Label, validate_label
from .limits import DEFAULT_LIMITS
from .manifest import AssertionStatement, IntegrityInformation, KeyAccessObject, Manifest, Segment, manifest_to_json
from .policy import DEFAULT_NAMESPACE, build_policy
from .stanag4774 import STANAG_4774_SCHEMA, render_4774

__all__ = ["DEFAULT_SEGMENT_SIZE", "KasTarget", "SplitMode", "write_ztdf"]

DEFAULT_SEGMENT_SIZE = 1024 * 1024
MIN_SEGMENT_SIZE = 16 * 1024
MAX_SEGMENT_SIZE = 4 * 1024 * 1024
_ZIP64_THRESHOLD = 2 * 1024 * 1024 * 1024 - 64 * 1024 * 1024
SplitMode = Literal["anyOf", "allOf"]


@dataclass(frozen=True)
class KasTarget:
    """A KAS that receives a KAO: base URL, key id and RSA public key (PEM). An explicit `sid` overrides the
    grouping chosen by `split`; targets that share a sid share one split key."""

    url: str
    kid: str
    public_key_pem: bytes
    sid: str = ""


def _split_ids(targets: Sequence[KasTarget], split: SplitMode) -> list[str]:
    if split not in ("anyOf", "allOf"):
        raise WriteOptionsError(f"split={split!r} is not anyOf or allOf")
    return [t.sid or ("s1" if split == "anyOf" else f"s{i + 1}") for i, t in enumerate(targets)]


def _key_access(targets: Sequence[KasTarget], split: SplitMode, dek: bytes, policy: str) -> list[KeyAccessObject]:
    sids = _split_ids(targets, split)
    groups = list(dict.fromkeys(sids))
    shares = dict(zip(groups, split_dek(dek, len(groups)), strict=True))
    kaos = []
    for target, sid in zip(targets, sids, strict=True):
        try:
            public_key = load_public_key(target.public_key_pem)
        except UnsupportedError as exc:
            raise KasKeyUnavailableError(f"KAS {target.url} key {target.kid!r}: {exc.message}") from exc
        share = shares[sid]
        kaos.append(
            KeyAccessObject(
                type="wrapped",
                url=target.url,
                protocol="kas",
                wrapped_key=wrap_split_key(public_key, share),
                binding_alg="HS256",
                binding_hash=compute_policy_binding(share, policy),
                kid=target.kid,
                sid=sid,
            )
        )
    return kaos


def _chunks(plaintext: bytes | IO[bytes], size: int) -> Iterator[bytes]:
    """Exactly `size`-byte pieces (the last shorter); an empty plaintext gives one empty segment (§3.2)."""
    if isinstance(plaintext, bytes):
        yield from (plaintext[i : i + size] for i in range(0, max(len(plaintext), 1), size))
        return
    chunk = _fill(plaintext, size)
    yield chunk
    while len(chunk) == size and (chunk := _fill(plaintext, size)):
        yield chunk


def _fill(stream: IO[bytes], size: int) -> bytes:
    parts, missing = [], size
    while missing and (part := stream.read(missing)):
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


@dataclass
class _Payload:
    segments: list[Segment]
    hashes: list[bytes]
    first_iv: bytes


def _write_payload(sink: IO[bytes], plaintext: bytes | IO[bytes], dek: bytes, segment_size: int) -> _Payload:
    aead = AESGCM(dek)
    written = _Payload([], [], b"")
    for chunk in _chunks(plaintext, segment_size):
        if len(written.segments) == DEFAULT_LIMITS.max_segments:
            raise WriteOptionsError(f"more than {DEFAULT_LIMITS.max_segments} segments; use a larger segment size")
        iv = new_iv()
        encrypted = encrypt_segment(aead, iv, chunk)
        sink.write(encrypted)
        digest = compute_segment_hash("GMAC", dek, encrypted)
        written.segments.append(Segment(b64encode(digest), len(chunk), len(chunk) + SEGMENT_OVERHEAD))
        written.hashes.append(digest)
        written.first_iv = written.first_iv or iv
    return written


def _check_options(targets: Sequence[KasTarget], segment_size: int) -> None:
    if not 1 <= len(targets) <= DEFAULT_LIMITS.max_kaos:
        raise WriteOptionsError(f"{len(targets)} KAS targets; give 1 to {DEFAULT_LIMITS.max_kaos}")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise WriteOptionsError(f"segment_size={segment_size} is outside {MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE}")


def write_ztdf(
    plaintext: bytes | IO[bytes],
    out: IO[bytes],
    *,
    label: Label,
    kas_targets: Sequence[KasTarget],
    split: SplitMode = "anyOf",
    segment_size: int = DEFAULT_SEGMENT_SIZE,
    mime_type: str = "application/octet-stream",
    resource_id: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> Manifest:
    """Encrypt `plaintext` into a ZTDF archive written to `out` (seekable) and return its manifest."""
    _check_options(kas_targets, segment_size)
    label = validate_label(label)
    dek = new_dek()
    policy = build_policy(label, namespace=namespace, resource_id=resource_id)
    key_access = _key_access(kas_targets, split, dek, policy)
    force_zip64 = not isinstance(plaintext, bytes) or len(plaintext) >= _ZIP64_THRESHOLD
    with create_archive(out) as archive:
        with write_payload_entry(archive, force_zip64=force_zip64) as sink:
            payload = _write_payload(sink, plaintext, dek, segment_size)
        manifest = _manifest(label, dek, policy, key_access, payload, segment_size, mime_type)
        write_manifest_entry(archive, manifest_to_json(manifest))
    return manifest


def _manifest(
    label: Label,
    dek: bytes,
    policy: str,
    key_access: list[KeyAccessObject],
    payload: _Payload,
    segment_size: int,
    mime_type: str,
) -> Manifest:
    aggregate = b"".join(payload.hashes)
    statement = AssertionStatement("json-structured", STANAG_4774_SCHEMA, render_4774(label))
    assertion = bind_assertion(assertion_id=LABEL_ASSERTION_ID, statement=statement, dek=dek, aggregate=aggregate)
    return Manifest(
        tdf_spec_version="4.3.0",
        schema_version="4.3.0",
        payload_url=PAYLOAD_ENTRY,
        payload_protocol="zip",
        mime_type=mime_type,
        key_access=tuple(key_access),
        method_algorithm="AES-256-GCM",
        method_iv=b64encode(payload.first_iv),
        integrity=IntegrityInformation(
            root_signature_alg="HS256",
            root_signature=compute_root_signature(dek, aggregate),
            segment_hash_alg="GMAC",
            segment_size_default=segment_size,
            encrypted_segment_size_default=segment_size + SEGMENT_OVERHEAD,
            segments=tuple(payload.segments),
        ),
        policy=policy,
        assertions=(assertion,),
    )
