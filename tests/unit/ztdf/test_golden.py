"""OpenTDF golden files (spec/ztdf-kas.md §15 item 8; shared/interop/README.md expected results)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from dive.ztdf import (
    LocalKeySource,
    PolicyBindingError,
    SegmentIntegrityError,
    decrypt,
    open_ztdf,
    unlock,
)

from .helpers import flip_byte, rezip

EXPECTED_SHA256 = {
    "small-java-4.3.0-e0f8caf.tdf": "a11937f356a9b0ba592c82f5290bac8016cb33a3f9bc68d3490147c158ebb10d",
    "no-splitids-java.tdf": "a11937f356a9b0ba592c82f5290bac8016cb33a3f9bc68d3490147c158ebb10d",
    "with-json-object-assertions-java.tdf": "982d9e3eb996f559e633f4d194def3761d909f5a3b647d1a851fead67c32c9d1",
    "xstext-java-v0.7.5-94b161d53-DSP2.0.2_and_2.0.3.tdf": (
        "842f232fcad173bf4d36817b39f6f043a5cefff2bbfe417dea3525b89d6e4e52"
    ),
    "xstext-java-v0.7.8-7f487c2-DSP2.0.4.tdf": "e9a17d18dd58c3557ac2faf7c0c2e64ac1213d632a36116c865ba5a60eac1e86",
    "xstext-java-v0.9.0-2de6a49-DSP2.0.5.1_and_2.0.6.tdf": (
        "1f3470c0b14de86d91f1897cd67dc78e5f180645cfd6e3f480f1ba317d842343"
    ),
    "key-management-no-split-golden.tdf": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
}
XSTEXT = [name for name in EXPECTED_SHA256 if name.startswith("xstext")]


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_golden_file_decrypts_with_golden_r1_to_the_published_plaintext(
    name: str, golden_dir: Path, golden_keys: LocalKeySource
) -> None:
    with open_ztdf(golden_dir / name) as container:
        plaintext = decrypt(container, golden_keys)
    assert hashlib.sha256(plaintext).hexdigest() == EXPECTED_SHA256[name]


@pytest.mark.parametrize("name", XSTEXT)
def test_golden_xstext_file_exposes_its_encrypted_metadata(
    name: str, golden_dir: Path, golden_keys: LocalKeySource
) -> None:
    with open_ztdf(golden_dir / name) as container:
        plaintext = unlock(container, golden_keys)
        assert plaintext.metadata() == {0: b"here is some metadata"}
        assert b"".join(plaintext.iter_plaintext()).startswith(b"test secret data to encrypt by the Java ")


def test_golden_no_splitids_file_falls_back_past_the_junk_kao(golden_dir: Path, golden_keys: LocalKeySource) -> None:
    with open_ztdf(golden_dir / "no-splitids-java.tdf") as container:
        unlocked = unlock(container, golden_keys)
    assert set(unlocked.keys.split_keys) == {1}
    assert [kao.sid for kao in container.manifest.key_access] == ["", "", ""]


def test_golden_key_management_file_with_empty_kid_uses_the_default_key(
    golden_dir: Path, golden_keys: LocalKeySource
) -> None:
    with open_ztdf(golden_dir / "key-management-no-split-golden.tdf") as container:
        assert container.manifest.key_access[0].kid == ""
        assert container.policy.data_attributes == ()
        assert decrypt(container, golden_keys) == b"hello\n"


def test_golden_object_valued_stanag5636_assertions_are_read_as_labels(golden_dir: Path) -> None:
    with open_ztdf(golden_dir / "with-json-object-assertions-java.tdf") as container:
        labels = container.labels
    assert [(label.classification, label.releasable_to, label.parsed) for label in labels] == [
        ("SECRET", ("USA",), True),
        ("SECRET", ("USA",), True),
    ]


def test_golden_string_stanag5636_assertion_with_a_date_in_ocl_is_present_but_unparsed(golden_dir: Path) -> None:
    with open_ztdf(golden_dir / "small-java-4.3.0-e0f8caf.tdf") as container:
        assert container.manifest.is_legacy
        assert container.segment_hashes.hex_form
        assert [label.parsed for label in container.labels] == [False]


@pytest.mark.parametrize(
    "name", ["small-java-4.3.0-e0f8caf.tdf", "xstext-java-v0.9.0-2de6a49-DSP2.0.5.1_and_2.0.6.tdf"]
)
def test_golden_file_with_a_flipped_payload_byte_fails_segment_integrity_at_segment_0(
    name: str, golden_dir: Path, golden_keys: LocalKeySource
) -> None:
    tampered = rezip((golden_dir / name).read_bytes(), payload=lambda p: flip_byte(p, 40))
    with open_ztdf(tampered) as container, pytest.raises(SegmentIntegrityError, match="segment 0 of 1") as err:
        decrypt(container, golden_keys)
    assert err.value.code == "ztdf_segment_integrity"
    assert err.value.detail == {"segment": 0, "segments": 1}


def _edit_policy(manifest: dict) -> dict:
    info = manifest["encryptionInformation"]
    policy = json.loads(base64.b64decode(info["policy"]))
    policy["body"]["dataAttributes"] = [{"attribute": "https://example.com/attr/a/value/b"}]
    info["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    return manifest


def _edit_binding(manifest: dict) -> dict:
    binding = manifest["encryptionInformation"]["keyAccess"][0]["policyBinding"]
    binding["hash"] = base64.b64encode(b"0" * 64).decode()
    return manifest


@pytest.mark.parametrize("edit", [_edit_policy, _edit_binding], ids=["policy", "binding"])
def test_golden_file_with_edited_policy_or_binding_fails_the_policy_binding(
    edit, golden_dir: Path, golden_keys: LocalKeySource
) -> None:
    tampered = rezip((golden_dir / "small-java-4.3.0-e0f8caf.tdf").read_bytes(), manifest=edit)
    with open_ztdf(tampered) as container, pytest.raises(PolicyBindingError) as err:
        decrypt(container, golden_keys)
    assert err.value.code == "ztdf_policy_binding_invalid"
