"""`dive ztdf` offline (spec/ztdf-kas.md §14; CONSISTENCY #37): round trip with explicit keys, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dive.cli.main import app

GOLDEN = Path(os.environ.get("DIVE_INTEROP_DIR") or Path(__file__).resolve().parents[3] / ".." / "shared" / "interop")
GOLDEN = GOLDEN / "opentdf-golden"
runner = CliRunner()


@pytest.fixture
def golden_keys() -> tuple[Path, Path]:
    if not GOLDEN.is_dir():
        pytest.skip(f"interop data not found at {GOLDEN}")
    return GOLDEN / "golden-r1-public.pem", GOLDEN / "golden-r1-private.pem"


def _encrypt(tmp_path: Path, public: Path) -> Path:
    source = tmp_path / "in.txt"
    source.write_bytes(b"coalition logistics plan")
    out = tmp_path / "doc.ztdf"
    result = runner.invoke(
        app,
        ["ztdf", "encrypt", str(source), "-o", str(out), "--classification", "SECRET", "--rel", "USA,GBR",
         "--coi", "FVEY", "--kas-public-key", f"golden-r1={public}", "--kas-url", "https://localhost:9000/kas"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_encrypt_then_decrypt_with_the_private_key_returns_the_plaintext(tmp_path, golden_keys):
    doc = _encrypt(tmp_path, golden_keys[0])
    out = tmp_path / "out.txt"
    args = ["ztdf", "decrypt", str(doc), "-o", str(out), "--private-key", str(golden_keys[1]), "--kid", "golden-r1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"coalition logistics plan"


def test_inspect_shows_kaos_and_the_unverified_marking(tmp_path, golden_keys):
    doc = _encrypt(tmp_path, golden_keys[0])
    result = runner.invoke(app, ["ztdf", "inspect", str(doc), "--json"])
    summary = json.loads(result.output)
    assert result.exit_code == 0 and summary["kaos"][0]["kid"] == "golden-r1"
    assert summary["label"] == {"displayMarking": "SECRET//FVEY//REL USA, GBR", "verified": False}


def test_decrypt_of_a_tampered_payload_exits_3_or_6_and_writes_nothing(tmp_path, golden_keys):
    doc = _encrypt(tmp_path, golden_keys[0])
    data = bytearray(doc.read_bytes())
    index = data.index(b"0.payload") + 60  # inside the stored payload entry
    data[index] ^= 0x01
    doc.write_bytes(bytes(data))
    out = tmp_path / "out.txt"
    args = ["ztdf", "decrypt", str(doc), "-o", str(out), "--private-key", str(golden_keys[1]), "--kid", "golden-r1"]
    result = runner.invoke(app, [*args, "--json"])
    # The flipped byte fails the GCM tag (3) unless the ZIP entry CRC is checked first (6).
    assert result.exit_code in (3, 6), result.output
    assert json.loads(result.output)["schema"] == "dive.error/1" and not out.exists()


def test_inspect_of_random_bytes_exits_6_with_container_invalid(tmp_path):
    junk = tmp_path / "junk.ztdf"
    junk.write_bytes(os.urandom(256))
    result = runner.invoke(app, ["ztdf", "inspect", str(junk), "--json"])
    assert result.exit_code == 6 and json.loads(result.output)["error"] == "ztdf_container_invalid"
