"""Malformed and oversized input gives a typed ZtdfError, never another exception (spec/ztdf-kas.md §2.1, §11)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dive.ztdf import (
    ContainerInvalidError,
    ManifestInvalidError,
    ManifestTooLargeError,
    SegmentLayoutError,
    UnsupportedError,
    ZtdfError,
    ZtdfLimits,
    open_ztdf,
)

from .helpers import rezip


def _archive(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture(scope="module")
def valid(make_ztdf: Callable[..., bytes]) -> bytes:
    return make_ztdf()


@pytest.mark.parametrize(
    "data",
    [b"", os.urandom(300), b"PK\x03\x04" + bytes(60)],
    ids=["zero-bytes", "random-bytes", "bare-local-header"],
)
def test_input_that_is_not_a_zip_is_container_invalid(data: bytes) -> None:
    with pytest.raises(ContainerInvalidError) as err:
        open_ztdf(data)
    assert err.value.code == "ztdf_container_invalid"


def test_truncated_archive_is_container_invalid(valid: bytes) -> None:
    with pytest.raises(ContainerInvalidError):
        open_ztdf(valid[: len(valid) // 2])


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("0.manifest.json", b"{}"), ("../x", b"")], "not a bare file name"),
        ([("0.manifest.json", b"{}"), ("dir/0.payload", b"")], "not a bare file name"),
        ([("0.payload", b"")], "no 0.manifest.json"),
        ([(f"{i}.bin", b"") for i in range(17)], "17 entries"),
    ],
    ids=["dot-dot", "slash", "no-manifest", "too-many-entries"],
)
def test_archive_with_bad_entries_is_container_invalid(entries: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(ContainerInvalidError, match=message):
        open_ztdf(_archive(entries))


def test_manifest_over_the_limit_is_too_large_even_when_its_header_lies(valid: bytes) -> None:
    with pytest.raises(ManifestTooLargeError) as err:
        open_ztdf(valid, limits=ZtdfLimits(max_manifest_bytes=100))
    assert err.value.code == "ztdf_manifest_too_large"
    padded = rezip(valid, manifest=lambda m: m | {"padding": "x" * (5 * 1024 * 1024)})
    with pytest.raises(ManifestTooLargeError):
        open_ztdf(padded)


def _set(path: str, value: object) -> Callable[[dict], dict]:
    def edit(manifest: dict) -> dict:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return manifest

    return edit


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (_set("encryptionInformation.method.algorithm", "AES-128-CBC"), UnsupportedError),
        (_set("encryptionInformation.integrityInformation.segmentHashAlg", "MD5"), UnsupportedError),
        (_set("encryptionInformation.integrityInformation.rootSignature.alg", "RS256"), UnsupportedError),
        (_set("payload.type", "inline"), UnsupportedError),
        (_set("encryptionInformation.integrityInformation.segments", "many"), ManifestInvalidError),
        (_set("encryptionInformation.integrityInformation.segments", []), ManifestInvalidError),
        (_set("encryptionInformation.integrityInformation.segments.0.segmentSize", -1), ManifestInvalidError),
        (_set("encryptionInformation.integrityInformation.segments.0.hash", "%%%"), ManifestInvalidError),
        (_set("encryptionInformation.integrityInformation.encryptedSegmentSizeDefault", 5), SegmentLayoutError),
        (_set("encryptionInformation.keyAccess", []), ManifestInvalidError),
        (_set("encryptionInformation.keyAccess.0.policyBinding", 7), ManifestInvalidError),
        (_set("encryptionInformation.policy", "bm90IGpzb24="), ManifestInvalidError),
        (_set("encryptionInformation.policy", 12), ManifestInvalidError),
        (_set("assertions.0.statement.value", 3), ManifestInvalidError),
        (_set("payload", None), ManifestInvalidError),
        (_set("deep", json.loads("[" * 40 + "]" * 40)), ManifestInvalidError),
        (_set("payload.url", "../0.payload"), ContainerInvalidError),
        (_set("encryptionInformation.integrityInformation.segments.0.segmentSize", 5), SegmentLayoutError),
        (_set("payload.url", "1.payload"), ContainerInvalidError),
    ],
)
def test_manifest_with_a_bad_field_raises_its_typed_error(edit: Callable, error: type[ZtdfError], valid: bytes) -> None:
    data = rezip(valid, manifest=edit)
    with pytest.raises(error) as err, open_ztdf(data) as container:
        container.manifest.integrity.segments[0].segment_size  # noqa: B018
        from dive.ztdf.container import open_payload_entry

        open_payload_entry(container._archive, container.manifest.payload_url, 0).close()
    assert err.value.code == error.code


@pytest.mark.parametrize("text", [b"{not json", b"[]", b"\xff\xfe", b'{"a": NaN}', b"[" * 100_000])
def test_manifest_that_is_not_a_json_object_is_manifest_invalid(text: bytes) -> None:
    with pytest.raises(ManifestInvalidError) as err:
        open_ztdf(_archive([("0.payload", b""), ("0.manifest.json", text)]))
    assert err.value.code == "ztdf_manifest_invalid"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_PATHS = st.sampled_from(
    [
        "payload",
        "encryptionInformation",
        "encryptionInformation.keyAccess",
        "encryptionInformation.keyAccess.0",
        "encryptionInformation.keyAccess.0.wrappedKey",
        "encryptionInformation.method",
        "encryptionInformation.integrityInformation",
        "encryptionInformation.integrityInformation.segments.0",
        "encryptionInformation.policy",
        "assertions",
        "assertions.0.statement",
        "assertions.0.binding",
    ]
)


@given(path=_PATHS, value=_JSON)
def test_any_manifest_field_replaced_by_random_json_gives_only_ztdf_errors(
    path: str, value: object, valid: bytes
) -> None:
    data = rezip(valid, manifest=_set(path, value))
    try:
        open_ztdf(data).close()
    except ZtdfError as exc:
        assert exc.code.startswith("ztdf_")
