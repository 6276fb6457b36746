"""Errors of the ZTDF reader and writer (spec/ztdf-kas.md §11).

ZtdfError
├─ ContainerInvalidError          ztdf_container_invalid
├─ ManifestTooLargeError          ztdf_manifest_too_large
├─ ManifestInvalidError           ztdf_manifest_invalid
├─ UnsupportedError               ztdf_unsupported
├─ SegmentLayoutError             ztdf_segment_layout_invalid
├─ IntegrityError                 (any cryptographic check that failed)
│  ├─ SegmentIntegrityError       ztdf_segment_integrity
│  ├─ RootSignatureError          ztdf_root_signature_invalid
│  ├─ PolicyBindingError          ztdf_policy_binding_invalid
│  ├─ AssertionInvalidError       ztdf_assertion_invalid
│  └─ LabelMismatchError          ztdf_label_mismatch
├─ KeyUnavailableError            ztdf_key_unavailable (detail["causes"]: per-KAO codes)
├─ KeyUnwrapError                 key_unwrap_failed
├─ PolicyInvalidError             policy_invalid
│  └─ PolicyUnknownAttributeError policy_unknown_attribute
├─ LabelInvalidError              label_invalid
├─ KasKeyUnavailableError         kas_key_unavailable
└─ WriteOptionsError              ztdf_write_options_invalid
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AssertionInvalidError",
    "ContainerInvalidError",
    "IntegrityError",
    "KasKeyUnavailableError",
    "KeyUnavailableError",
    "KeyUnwrapError",
    "LabelInvalidError",
    "LabelMismatchError",
    "ManifestInvalidError",
    "ManifestTooLargeError",
    "PolicyBindingError",
    "PolicyInvalidError",
    "PolicyUnknownAttributeError",
    "RootSignatureError",
    "SegmentIntegrityError",
    "SegmentLayoutError",
    "UnsupportedError",
    "WriteOptionsError",
    "ZtdfError",
]


class ZtdfError(Exception):
    """Base of every reader and writer failure; `code` is stable, the message is for a person."""

    code = "ztdf_error"

    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = dict(detail or {})


class ContainerInvalidError(ZtdfError):
    code = "ztdf_container_invalid"


class ManifestTooLargeError(ZtdfError):
    code = "ztdf_manifest_too_large"


class ManifestInvalidError(ZtdfError):
    code = "ztdf_manifest_invalid"


class UnsupportedError(ZtdfError):
    code = "ztdf_unsupported"


class SegmentLayoutError(ZtdfError):
    code = "ztdf_segment_layout_invalid"


class IntegrityError(ZtdfError):
    code = "ztdf_integrity"


class SegmentIntegrityError(IntegrityError):
    code = "ztdf_segment_integrity"

    def __init__(self, index: int, count: int) -> None:
        super().__init__(
            f"segment {index} of {count} failed its integrity check — the file was modified or damaged; "
            "obtain a fresh copy",
            {"segment": index, "segments": count},
        )
        self.index = index


class RootSignatureError(IntegrityError):
    code = "ztdf_root_signature_invalid"


class PolicyBindingError(IntegrityError):
    code = "ztdf_policy_binding_invalid"


class AssertionInvalidError(IntegrityError):
    code = "ztdf_assertion_invalid"


class LabelMismatchError(IntegrityError):
    code = "ztdf_label_mismatch"


class KeyUnavailableError(ZtdfError):
    code = "ztdf_key_unavailable"


class KeyUnwrapError(ZtdfError):
    code = "key_unwrap_failed"


class PolicyInvalidError(ZtdfError):
    code = "policy_invalid"


class PolicyUnknownAttributeError(PolicyInvalidError):
    code = "policy_unknown_attribute"


class LabelInvalidError(ZtdfError):
    code = "label_invalid"


class KasKeyUnavailableError(ZtdfError):
    code = "kas_key_unavailable"


class WriteOptionsError(ZtdfError):
    code = "ztdf_write_options_invalid"
