"""Strict, typed parsing of a manifest at the edge (spec/ztdf-kas.md §2.2, §2.4 tolerances, §11 limits)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .crypto import SEGMENT_OVERHEAD
from .errors import ManifestInvalidError, SegmentLayoutError, UnsupportedError
from .limits import ZtdfLimits
from .manifest import Assertion, AssertionStatement, IntegrityInformation, KeyAccessObject, Manifest, Segment

__all__ = ["parse_json_document", "parse_manifest"]

_Object = Mapping[str, object]


def parse_json_document(data: bytes, max_depth: int, what: str) -> object:
    """UTF-8 JSON with no NaN/Infinity and at most `max_depth` nesting; ManifestInvalidError otherwise."""
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ManifestInvalidError(f"{what} is not valid JSON: {exc}") from exc
    if _depth(document) > max_depth:
        raise ManifestInvalidError(f"{what} nests deeper than {max_depth} levels")
    return document


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed")


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _invalid(path: str, expected: str) -> ManifestInvalidError:
    return ManifestInvalidError(f"manifest field {path} is missing or not {expected}", {"field": path})


def _object(parent: _Object, key: str, path: str) -> _Object:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise _invalid(f"{path}{key}", "an object")
    return value


def _str(parent: _Object, key: str, path: str, default: str | None = None) -> str:
    value = parent.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise _invalid(f"{path}{key}", "a string")
    return value


def _optional_str(parent: _Object, key: str, path: str) -> str | None:
    return None if parent.get(key) is None else _str(parent, key, path)


def _int(parent: _Object, key: str, path: str, default: int | None = None) -> int:
    value = parent.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(f"{path}{key}", "a non-negative integer")
    return value


def _list(parent: _Object, key: str, path: str, minimum: int, maximum: int) -> list[object]:
    value = parent.get(key)
    if value is None and minimum == 0:
        value = []
    if not isinstance(value, list):
        raise _invalid(f"{path}{key}", "an array")
    if not minimum <= len(value) <= maximum:
        raise ManifestInvalidError(f"manifest field {path}{key} has {len(value)} items; allowed {minimum}..{maximum}")
    return value


def _items(values: list[object], path: str) -> list[_Object]:
    for i, item in enumerate(values):
        if not isinstance(item, dict):
            raise _invalid(f"{path}[{i}]", "an object")
    return values  # type: ignore[return-value]


def _kao(item: _Object, path: str) -> KeyAccessObject:
    binding = item.get("policyBinding")
    if isinstance(binding, str):  # a bare string is the hash, alg HS256 (§2.2)
        alg, digest = "HS256", binding
    elif isinstance(binding, dict):
        alg, digest = _str(binding, "alg", f"{path}.policyBinding."), _str(binding, "hash", f"{path}.policyBinding.")
    else:
        raise _invalid(f"{path}.policyBinding", "an object or a string")
    return KeyAccessObject(
        type=_str(item, "type", f"{path}."),
        url=_str(item, "url", f"{path}."),
        protocol=_str(item, "protocol", f"{path}.", default="kas"),
        wrapped_key=_str(item, "wrappedKey", f"{path}."),
        binding_alg=alg,
        binding_hash=digest,
        kid=_str(item, "kid", f"{path}.", default=""),
        sid=_str(item, "sid", f"{path}.", default=""),
        encrypted_metadata=_str(item, "encryptedMetadata", f"{path}.", default=""),
    )


def _segments(integrity: _Object, limits: ZtdfLimits, default_size: int) -> tuple[Segment, ...]:
    path = "encryptionInformation.integrityInformation.segments"
    raw = _items(_list(integrity, "segments", path[:-8], 1, limits.max_segments), path)
    segments = []
    for i, item in enumerate(raw):
        size = _int(item, "segmentSize", f"{path}[{i}].", default=default_size)
        encrypted = _int(item, "encryptedSegmentSize", f"{path}[{i}].", default=default_size + SEGMENT_OVERHEAD)
        segments.append(Segment(_str(item, "hash", f"{path}[{i}]."), size, encrypted))
    return tuple(segments)


def _integrity(info: _Object, limits: ZtdfLimits) -> IntegrityInformation:
    path = "encryptionInformation.integrityInformation."
    integrity = _object(info, "integrityInformation", "encryptionInformation.")
    root = _object(integrity, "rootSignature", path)
    default_size = _int(integrity, "segmentSizeDefault", path)
    return IntegrityInformation(
        root_signature_alg=_str(root, "alg", f"{path}rootSignature."),
        root_signature=_str(root, "sig", f"{path}rootSignature."),
        segment_hash_alg=_str(integrity, "segmentHashAlg", path, default="GMAC"),
        segment_size_default=default_size,
        encrypted_segment_size_default=_int(integrity, "encryptedSegmentSizeDefault", path),
        segments=_segments(integrity, limits, default_size),
    )


def _assertion(item: _Object, path: str) -> Assertion:
    statement = _object(item, "statement", f"{path}.")
    value = statement.get("value", "")
    if not isinstance(value, str | dict):
        raise _invalid(f"{path}.statement.value", "a string or an object")
    binding = _object(item, "binding", f"{path}.")
    return Assertion(
        id=_str(item, "id", f"{path}."),
        type=_str(item, "type", f"{path}.", default=""),
        scope=_str(item, "scope", f"{path}.", default=""),
        applies_to_state=_str(item, "appliesToState", f"{path}.", default=""),
        statement=AssertionStatement(
            format=_str(statement, "format", f"{path}.statement.", default=""),
            schema=_str(statement, "schema", f"{path}.statement.", default=""),
            value=value,
        ),
        binding_method=_str(binding, "method", f"{path}.binding."),
        binding_signature=_str(binding, "signature", f"{path}.binding."),
    )


def _check_supported(payload: _Object, info: _Object, method: _Object) -> None:
    checks = [
        (_str(payload, "type", "payload.") == "reference", "payload.type must be reference"),
        (_str(payload, "protocol", "payload.", default="zip") in ("zip", "zipstream"), "payload.protocol"),
        (payload.get("isEncrypted") is True, "payload.isEncrypted must be true"),
        (_str(info, "type", "encryptionInformation.", default="split") == "split", "encryptionInformation.type"),
        (_str(method, "algorithm", "method.").upper() == "AES-256-GCM", "method.algorithm must be AES-256-GCM"),
    ]
    for ok, what in checks:
        if not ok:
            raise UnsupportedError(f"unsupported manifest value: {what}", {"field": what})


def _check_layout(integrity: IntegrityInformation, limits: ZtdfLimits) -> None:
    if integrity.segment_hash_alg not in ("GMAC", "HS256"):
        raise UnsupportedError(f"segmentHashAlg {integrity.segment_hash_alg!r} is not supported (GMAC or HS256)")
    if integrity.root_signature_alg != "HS256":
        raise UnsupportedError(f"rootSignature.alg {integrity.root_signature_alg!r} is not supported (HS256)")
    if integrity.segment_size_default < 1:
        raise ManifestInvalidError("segmentSizeDefault must be at least 1")
    if integrity.encrypted_segment_size_default != integrity.segment_size_default + SEGMENT_OVERHEAD:
        raise SegmentLayoutError("encryptedSegmentSizeDefault must equal segmentSizeDefault + 28")
    for i, seg in enumerate(integrity.segments):
        if seg.encrypted_segment_size != seg.segment_size + SEGMENT_OVERHEAD:
            raise SegmentLayoutError(f"segment {i}: encryptedSegmentSize must equal segmentSize + 28")
        if seg.encrypted_segment_size > limits.max_encrypted_segment_bytes:
            raise SegmentLayoutError(f"segment {i} is larger than {limits.max_encrypted_segment_bytes} bytes")


def parse_manifest(data: bytes, limits: ZtdfLimits) -> Manifest:
    document = parse_json_document(data, limits.max_json_depth, "the manifest")
    if not isinstance(document, dict):
        raise ManifestInvalidError("the manifest is not a JSON object")
    payload = _object(document, "payload", "")
    info = _object(document, "encryptionInformation", "")
    method = _object(info, "method", "encryptionInformation.")
    _check_supported(payload, info, method)
    integrity = _integrity(info, limits)
    _check_layout(integrity, limits)
    policy = _str(info, "policy", "encryptionInformation.")
    if len(policy) > limits.max_policy_bytes:
        raise ManifestInvalidError(f"the policy string is longer than {limits.max_policy_bytes} bytes")
    kaos = _items(_list(info, "keyAccess", "encryptionInformation.", 1, limits.max_kaos), "keyAccess")
    assertions = _items(_list(document, "assertions", "", 0, limits.max_assertions), "assertions")
    return Manifest(
        tdf_spec_version=_optional_str(document, "tdf_spec_version", ""),
        schema_version=_optional_str(document, "schemaVersion", ""),
        payload_url=_str(payload, "url", "payload."),
        payload_protocol=_str(payload, "protocol", "payload.", default="zip"),
        mime_type=_str(payload, "mimeType", "payload.", default="application/octet-stream"),
        key_access=tuple(_kao(kao, f"keyAccess[{i}]") for i, kao in enumerate(kaos)),
        method_algorithm=_str(method, "algorithm", "method."),
        method_iv=_str(method, "iv", "method.", default=""),
        integrity=integrity,
        policy=policy,
        assertions=tuple(_assertion(a, f"assertions[{i}]") for i, a in enumerate(assertions)),
    )
