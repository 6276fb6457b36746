"""Tamper matrix on writer output (spec/ztdf-kas.md §15 item 5): each change yields its typed error and code."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from dive.ztdf import (
    AssertionInvalidError,
    LabelMismatchError,
    LocalKeySource,
    PolicyBindingError,
    RootSignatureError,
    SegmentIntegrityError,
    SegmentLayoutError,
    ZtdfError,
    decrypt,
    open_ztdf,
    unlock,
)

from .helpers import flip_byte, rezip

SEGMENT = 16 * 1024
ENCRYPTED = SEGMENT + 28


@pytest.fixture(scope="module")
def three_segments(make_ztdf: Callable[..., bytes]) -> bytes:
    return make_ztdf(bytes(range(256)) * 160, segment_size=SEGMENT)  # 40960 bytes: 16 KiB, 16 KiB, 8 KiB


def _decrypt(data: bytes, keys: LocalKeySource) -> bytes:
    with open_ztdf(data) as container:
        return decrypt(container, keys)


@pytest.mark.parametrize(
    ("offset", "segment"),
    [(0, 0), (20, 0), (ENCRYPTED - 1, 0), (ENCRYPTED + 5, 1), (2 * ENCRYPTED + 100, 2)],
    ids=["iv", "ciphertext", "tag", "segment-1-iv", "segment-2-ciphertext"],
)
def test_flipped_payload_bit_names_the_failing_segment(
    offset: int, segment: int, three_segments: bytes, local_keys: LocalKeySource
) -> None:
    tampered = rezip(three_segments, payload=lambda p: flip_byte(p, offset))
    with pytest.raises(SegmentIntegrityError, match=f"segment {segment} of 3") as err:
        _decrypt(tampered, local_keys)
    assert err.value.code == "ztdf_segment_integrity" and err.value.index == segment


def test_verify_all_first_emits_nothing_when_the_last_segment_is_corrupt(
    three_segments: bytes, local_keys: LocalKeySource
) -> None:
    tampered = rezip(three_segments, payload=lambda p: flip_byte(p, len(p) - 1))
    emitted = []
    with open_ztdf(tampered) as container, pytest.raises(SegmentIntegrityError):
        emitted.extend(unlock(container, local_keys).iter_plaintext(verify_all_first=True))
    assert emitted == []


def _swap_first_segments(manifest: dict) -> dict:
    segments = manifest["encryptionInformation"]["integrityInformation"]["segments"]
    segments[0], segments[1] = segments[1], segments[0]
    return manifest


def _drop_last_segment(manifest: dict) -> dict:
    manifest["encryptionInformation"]["integrityInformation"]["segments"].pop()
    return manifest


def test_swapped_segments_fail_the_root_signature(three_segments: bytes, local_keys: LocalKeySource) -> None:
    def swap_payload(payload: bytes) -> bytes:
        return payload[ENCRYPTED : 2 * ENCRYPTED] + payload[:ENCRYPTED] + payload[2 * ENCRYPTED :]

    tampered = rezip(three_segments, manifest=_swap_first_segments, payload=swap_payload)
    with pytest.raises(RootSignatureError) as err:
        _decrypt(tampered, local_keys)
    assert err.value.code == "ztdf_root_signature_invalid"


def test_dropped_segment_fails_the_layout_check(three_segments: bytes, local_keys: LocalKeySource) -> None:
    tampered = rezip(three_segments, manifest=_drop_last_segment, payload=lambda p: p[: 2 * ENCRYPTED])
    with pytest.raises(RootSignatureError):
        _decrypt(tampered, local_keys)
    tampered = rezip(three_segments, payload=lambda p: p + b"x")
    with pytest.raises(SegmentLayoutError) as err:
        _decrypt(tampered, local_keys)
    assert err.value.code == "ztdf_segment_layout_invalid"


def _policy_edit(manifest: dict) -> dict:
    info = manifest["encryptionInformation"]
    policy = json.loads(base64.b64decode(info["policy"]))
    policy["body"]["dataAttributes"][0]["attribute"] = "https://dive.nato.int/attr/classification/value/unclassified"
    info["policy"] = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
    return manifest


def test_edited_policy_fails_the_policy_binding(make_ztdf: Callable[..., bytes], local_keys: LocalKeySource) -> None:
    with pytest.raises(PolicyBindingError) as err:
        _decrypt(rezip(make_ztdf(), manifest=_policy_edit), local_keys)
    assert err.value.code == "ztdf_policy_binding_invalid"


def test_kao_moved_from_another_document_fails_the_policy_binding(
    make_ztdf: Callable[..., bytes], local_keys: LocalKeySource
) -> None:
    donor = rezip(make_ztdf(b"other document"))
    with open_ztdf(donor) as container:
        kao = container.manifest.key_access[0]

    def transplant(manifest: dict) -> dict:
        target = manifest["encryptionInformation"]["keyAccess"][0]
        target["wrappedKey"], target["policyBinding"]["hash"] = kao.wrapped_key, kao.binding_hash
        return manifest

    with pytest.raises(PolicyBindingError):
        _decrypt(rezip(make_ztdf(), manifest=transplant), local_keys)


def _label_edit(manifest: dict) -> dict:
    manifest["assertions"][0]["statement"]["value"]["ConfidentialityInformation"]["Classification"] = "RESTRICTED"
    return manifest


def test_edited_label_fails_the_assertion_binding(make_ztdf: Callable[..., bytes], local_keys: LocalKeySource) -> None:
    with pytest.raises(AssertionInvalidError) as err:
        _decrypt(rezip(make_ztdf(), manifest=_label_edit), local_keys)
    assert err.value.code == "ztdf_assertion_invalid"


def test_removed_label_assertion_on_a_dive_policy_is_a_label_mismatch(
    make_ztdf: Callable[..., bytes], local_keys: LocalKeySource
) -> None:
    def drop(manifest: dict) -> dict:
        manifest["assertions"] = []
        return manifest

    with pytest.raises(LabelMismatchError) as err:
        _decrypt(rezip(make_ztdf(), manifest=drop), local_keys)
    assert err.value.code == "ztdf_label_mismatch"


def test_assertion_binding_with_another_algorithm_is_refused(
    make_ztdf: Callable[..., bytes], local_keys: LocalKeySource
) -> None:
    def alg_none(manifest: dict) -> dict:
        binding = manifest["assertions"][0]["binding"]
        _, payload, _ = binding["signature"].split(".")
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
        binding["signature"] = f"{header}.{payload}."
        return manifest

    with pytest.raises(AssertionInvalidError, match="HS256"):
        _decrypt(rezip(make_ztdf(), manifest=alg_none), local_keys)


def test_every_integrity_failure_is_a_ztdf_error(three_segments: bytes, local_keys: LocalKeySource) -> None:
    tampered = rezip(three_segments, payload=lambda p: flip_byte(p, 30))
    with pytest.raises(ZtdfError):
        _decrypt(tampered, local_keys)
