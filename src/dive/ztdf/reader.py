"""Reading and verifying a ZTDF file (spec/ztdf-kas.md §3.6)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .assertions import LABEL_ASSERTION_ID, verify_assertion
from .container import ZIP_FAILURES, check_payload_entry, open_archive, open_payload_entry, read_manifest_entry
from .crypto import IV_BYTES, InvalidTag, decrypt_segment
from .encoding import b64decode
from .errors import (
    ContainerInvalidError,
    ManifestInvalidError,
    PolicyInvalidError,
    SegmentIntegrityError,
    SegmentLayoutError,
)
from .integrity import SegmentHashes, compute_segment_hash, read_segment_hashes, verify_root_signature
from .keys import KeySource, ResolvedKeys, resolve_keys
from .label import ReadLabel
from .label_check import check_label_matches_policy
from .limits import DEFAULT_LIMITS, ZtdfLimits
from .manifest import Assertion, Manifest
from .manifest_parse import parse_manifest
from .policy import Policy, parse_policy
from .stanag4774 import STANAG_4774_SCHEMA, parse_4774
from .stanag5636 import is_5636, parse_5636

__all__ = ["UnlockedZtdf", "ZtdfContainer", "ZtdfSource", "decrypt", "open_ztdf", "unlock"]

ZtdfSource = str | os.PathLike[str] | bytes | IO[bytes]
_READ_CHUNK = 1 << 20


@dataclass
class ZtdfContainer:
    """An opened file: manifest, policy and labels as written (unverified until `unlock`)."""

    manifest: Manifest
    policy: Policy
    labels: tuple[ReadLabel, ...]
    segment_hashes: SegmentHashes
    _archive: zipfile.ZipFile = field(repr=False)
    _owned: IO[bytes] | None = field(default=None, repr=False)

    @property
    def label(self) -> ReadLabel | None:
        """The DIVE label assertion, when present."""
        return next((label for label in self.labels if label.assertion_id == LABEL_ASSERTION_ID), None)

    def close(self) -> None:
        self._archive.close()
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> ZtdfContainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _assertion_value(assertion: Assertion) -> Mapping[str, object] | None:
    value = assertion.statement.value
    if isinstance(value, Mapping):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _read_label(assertion: Assertion) -> ReadLabel | None:
    value = _assertion_value(assertion)
    if assertion.statement.schema == STANAG_4774_SCHEMA and value is not None:
        return parse_4774(assertion.id, value)
    if is_5636(assertion.statement.schema, assertion.statement.format, value):
        return parse_5636(assertion.id, value)
    return None


def _open_source(source: ZtdfSource) -> tuple[IO[bytes], IO[bytes] | None]:
    if isinstance(source, bytes):
        return io.BytesIO(source), None
    if isinstance(source, str | os.PathLike):
        try:
            handle = Path(source).open("rb")  # noqa: SIM115 (owned by the container, closed by close())
        except OSError as exc:
            raise ContainerInvalidError(f"cannot open {os.fspath(source)!r}: {exc.strerror}") from exc
        return handle, handle
    return source, None


def open_ztdf(source: ZtdfSource, *, limits: ZtdfLimits = DEFAULT_LIMITS) -> ZtdfContainer:
    """Open and parse a ZTDF file without any key (§3.6 step 1); the caller closes the container."""
    stream, owned = _open_source(source)
    try:
        archive = open_archive(stream, limits)
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    try:
        manifest = _parse(archive, limits)
        hashes = read_segment_hashes(manifest.integrity)
        policy = _policy(manifest)
    except BaseException:
        archive.close()
        if owned is not None:
            owned.close()
        raise
    labels = tuple(label for a in manifest.assertions if (label := _read_label(a)) is not None)
    return ZtdfContainer(manifest, policy, labels, hashes, archive, owned)


def _parse(archive: zipfile.ZipFile, limits: ZtdfLimits) -> Manifest:
    manifest = parse_manifest(read_manifest_entry(archive, limits), limits)
    if manifest.integrity.payload_size > limits.max_payload_bytes:
        raise SegmentLayoutError(f"the payload declares more than {limits.max_payload_bytes} bytes")
    check_payload_entry(archive, manifest.payload_url, manifest.integrity.payload_size)
    return manifest


def _policy(manifest: Manifest) -> Policy:
    try:
        return parse_policy(manifest.policy)
    except PolicyInvalidError as exc:
        raise ManifestInvalidError(f"encryptionInformation.policy is invalid: {exc.message}") from exc


@dataclass
class UnlockedZtdf:
    """A container whose key, bindings, root signature, assertions and label were verified."""

    container: ZtdfContainer
    keys: ResolvedKeys = field(repr=False)

    def iter_plaintext(self, *, verify_all_first: bool = False) -> Iterator[bytes]:
        """Segments in order, each authenticated before it is yielded (§3.6 steps 5–6).

        With `verify_all_first`, a first pass authenticates every segment so that nothing is yielded from a
        file whose last segment is corrupt.
        """
        if verify_all_first:
            for _ in self._segments():
                pass
        return self._segments()

    def plaintext(self) -> bytes:
        return b"".join(self._segments())

    def metadata(self) -> dict[int, bytes]:
        """Decrypted `encryptedMetadata` by KAO index; undecryptable metadata is left out (§3.8: a warning)."""
        found = {}
        for index, key in self.keys.split_keys.items():
            text = self.container.manifest.key_access[index].encrypted_metadata
            if text and (clear := _decrypt_metadata(text, key)) is not None:
                found[index] = clear
        return found

    def _segments(self) -> Iterator[bytes]:
        manifest = self.container.manifest
        integrity, hashes = manifest.integrity, self.container.segment_hashes
        aead = AESGCM(self.keys.dek)
        count = len(integrity.segments)
        payload = open_payload_entry(self.container._archive, manifest.payload_url)
        with payload:
            for index, segment in enumerate(integrity.segments):
                encrypted = _read_exactly(payload, segment.encrypted_segment_size)
                computed = compute_segment_hash(integrity.segment_hash_alg, self.keys.dek, encrypted)
                if len(encrypted) != segment.encrypted_segment_size or not hashes.matches(index, computed):
                    raise SegmentIntegrityError(index, count)
                try:
                    clear = decrypt_segment(aead, encrypted)
                except InvalidTag as exc:
                    raise SegmentIntegrityError(index, count) from exc
                yield clear
            if _read_exactly(payload, 1):
                raise SegmentLayoutError("the payload has bytes after the last segment")


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    try:
        return stream.read(size)
    except ZIP_FAILURES as exc:  # e.g. a CRC mismatch detected by zipfile at the end of the entry
        raise ContainerInvalidError(f"the payload entry is damaged: {exc}") from exc


def _decrypt_metadata(text: str, key: bytes) -> bytes | None:
    try:
        envelope = json.loads(b64decode(text))
        ciphertext = envelope.get("ciphertext") if isinstance(envelope, dict) else None
        if not isinstance(ciphertext, str):
            return None
        blob = b64decode(ciphertext)
        return AESGCM(key).decrypt(blob[:IV_BYTES], blob[IV_BYTES:], None)
    except (ValueError, InvalidTag):
        return None


def unlock(container: ZtdfContainer, key_source: KeySource, *, preferred_urls: Sequence[str] = ()) -> UnlockedZtdf:
    """Obtain the DEK and verify bindings, root signature, assertions and label ≡ policy (§3.6 steps 2–4)."""
    manifest = container.manifest
    keys = resolve_keys(manifest, key_source, preferred_urls)
    hashes = container.segment_hashes
    verify_root_signature(manifest.integrity, hashes, keys.dek)
    for assertion in manifest.assertions:
        verify_assertion(assertion, keys.dek, hashes.aggregate, hashes.hex_form)
    if container.policy.dive is not None:
        check_label_matches_policy(container.label, container.policy)
    return UnlockedZtdf(container, keys)


def decrypt(container: ZtdfContainer, key_source: KeySource, *, preferred_urls: Sequence[str] = ()) -> bytes:
    """The whole plaintext, every check passed; for large files use `unlock(...).iter_plaintext()`."""
    return unlock(container, key_source, preferred_urls=preferred_urls).plaintext()
