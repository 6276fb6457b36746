"""Writer output: round trips, multi-KAS, schemas, independent decoder (spec/ztdf-kas.md §15 items 1, 3, 4)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from dive.ztdf import (
    KasTarget,
    KeyUnavailableError,
    Label,
    LocalKeySource,
    WriteOptionsError,
    decrypt,
    open_ztdf,
    parse_policy,
    policy_requirements,
    unlock,
    write_ztdf,
)

from .independent_decoder import decode

MIB = 1024 * 1024


def _manifest_json(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert [info.filename for info in archive.infolist()] == ["0.payload", "0.manifest.json"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        return json.loads(archive.read("0.manifest.json"))


@pytest.mark.parametrize("schema", ["manifest.schema.json", "spec-manifest.schema.json"])
def test_written_manifest_validates_against_the_opentdf_schema(
    schema: str, golden_dir: Path, make_ztdf: Callable[..., bytes]
) -> None:
    document = json.loads((golden_dir / schema).read_text())
    jsonschema.validate(_manifest_json(make_ztdf()), document)


@pytest.mark.parametrize("split", ["anyOf", "allOf"])
def test_written_file_decrypts_with_the_independent_decoder(
    split: str, make_ztdf: Callable[..., bytes], targets: list[KasTarget], kas_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    plaintext = os.urandom(40_000)
    data = make_ztdf(plaintext, kas_targets=targets, split=split, segment_size=16 * 1024)
    assert decode(data, kas_keys) == plaintext


def test_anyof_file_opens_with_either_kas_key_alone(
    make_ztdf: Callable[..., bytes], targets: list[KasTarget], kas_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    data = make_ztdf(b"either", kas_targets=targets, split="anyOf")
    for kid, key in kas_keys.items():
        with open_ztdf(data) as container:
            assert [kao.sid for kao in container.manifest.key_access] == ["s1", "s1"]
            assert decrypt(container, LocalKeySource({kid: key})) == b"either"


def test_allof_file_needs_every_kas_key(
    make_ztdf: Callable[..., bytes], targets: list[KasTarget], kas_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    data = make_ztdf(b"both", kas_targets=targets, split="allOf")
    with open_ztdf(data) as container:
        assert [kao.sid for kao in container.manifest.key_access] == ["s1", "s2"]
        assert decrypt(container, LocalKeySource(kas_keys)) == b"both"
        with pytest.raises(KeyUnavailableError) as err:
            decrypt(container, LocalKeySource({"usa-rsa-1": kas_keys["usa-rsa-1"]}))
    assert err.value.code == "ztdf_key_unavailable"
    assert err.value.detail["causes"] == [{"kao": 1, "url": "https://localhost:9010/kas", "code": "unknown_kid"}]


def test_preferred_url_is_asked_first(
    make_ztdf: Callable[..., bytes], targets: list[KasTarget], local_keys: LocalKeySource
) -> None:
    data = make_ztdf(b"x", kas_targets=targets)
    with open_ztdf(data) as container:
        unlocked = unlock(container, local_keys, preferred_urls=["https://LOCALHOST:9010/kas/"])
    assert set(unlocked.keys.split_keys) == {1}


def test_streamed_multi_megabyte_payload_round_trips_segment_by_segment(
    label: Label, targets: list[KasTarget], local_keys: LocalKeySource, tmp_path: Path
) -> None:
    plaintext = os.urandom(5 * MIB + 123)
    path = tmp_path / "big.ztdf"
    with path.open("wb") as out:
        manifest = write_ztdf(io.BytesIO(plaintext), out, label=label, kas_targets=targets, segment_size=MIB)
    assert [s.segment_size for s in manifest.integrity.segments] == [MIB] * 5 + [123]
    with open_ztdf(path) as container:
        pieces = list(unlock(container, local_keys).iter_plaintext(verify_all_first=True))
    assert [len(p) for p in pieces] == [MIB] * 5 + [123]
    assert b"".join(pieces) == plaintext


@pytest.mark.parametrize("size", [0, 16 * 1024, 32 * 1024])
def test_empty_and_exact_multiple_plaintexts_round_trip_from_a_stream(
    size: int, label: Label, targets: list[KasTarget], local_keys: LocalKeySource
) -> None:
    out, plaintext = io.BytesIO(), os.urandom(size)
    manifest = write_ztdf(io.BytesIO(plaintext), out, label=label, kas_targets=targets[:1], segment_size=16 * 1024)
    assert len(manifest.integrity.segments) == max(1, size // (16 * 1024))
    with open_ztdf(out.getvalue()) as container:
        assert decrypt(container, local_keys) == plaintext


@given(
    plaintext=st.binary(max_size=70_000),
    kao_count=st.integers(min_value=1, max_value=2),
    split=st.sampled_from(["anyOf", "allOf"]),
)
def test_random_plaintexts_round_trip_with_reader_and_independent_decoder(
    plaintext: bytes,
    kao_count: int,
    split: str,
    make_ztdf: Callable[..., bytes],
    targets: list[KasTarget],
    kas_keys: dict[str, rsa.RSAPrivateKey],
    local_keys: LocalKeySource,
) -> None:
    data = make_ztdf(plaintext, kas_targets=targets[:kao_count], split=split, segment_size=16 * 1024)
    with open_ztdf(data) as container:
        assert decrypt(container, local_keys) == plaintext
    assert decode(data, kas_keys) == plaintext


def test_policy_and_label_assertion_carry_the_label(make_ztdf: Callable[..., bytes]) -> None:
    data = make_ztdf(resource_id="doc-USA-tv-00001")
    with open_ztdf(data) as container:
        label = container.label
        required = policy_requirements(container.policy)
    assert label is not None and label.display_marking == "SECRET//FVEY//REL USA, GBR"
    assert (required.classification, required.releasable_to, required.cois) == ("SECRET", ("GBR", "USA"), ("FVEY",))
    assert parse_policy(container.manifest.policy).dive.resource_id == "doc-USA-tv-00001"


@pytest.mark.parametrize(
    ("options", "message"),
    [({"kas_targets": []}, "0 KAS targets"), ({"segment_size": 1024}, "segment_size=1024"), ({"split": "x"}, "x")],
)
def test_writer_rejects_bad_options_with_a_typed_error(
    options: dict, message: str, make_ztdf: Callable[..., bytes]
) -> None:
    with pytest.raises(WriteOptionsError, match=message) as err:
        make_ztdf(**options)
    assert err.value.code == "ztdf_write_options_invalid"
