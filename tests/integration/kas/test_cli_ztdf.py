"""`dive ztdf decrypt` through a real KAS with a user's token (spec/ztdf-kas.md §14, §15 item 9)."""

from __future__ import annotations

import hashlib

from typer.testing import CliRunner

from dive.cli.main import app

from .conftest import GOLDEN, KasDeployment

runner = CliRunner()


def _decrypt(kas: KasDeployment, tmp_path, token: str, name: str = "small-java-4.3.0-e0f8caf.tdf"):
    token_file = tmp_path / "token"
    token_file.write_text(token)
    out = tmp_path / "out.bin"
    mapping = f"http://localhost:8080/kas={kas.kas.url}/kas"
    args = ["ztdf", "decrypt", str(GOLDEN / name), "-o", str(out), "--token-file", str(token_file),
            "--home", str(kas.home), "--kas-url-map", mapping, "--json"]  # fmt: skip
    return runner.invoke(app, args), out


def test_cli_decrypt_of_a_golden_file_through_the_kas_exits_0(kas_deployment, tmp_path):
    result, out = _decrypt(kas_deployment, tmp_path, kas_deployment.issuer.token())
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest().startswith("a11937f3")


def test_cli_decrypt_with_an_untrusted_token_exits_1_and_writes_nothing(kas_deployment, tmp_path):
    result, out = _decrypt(kas_deployment, tmp_path, kas_deployment.issuer.token(iss="https://evil.example/x"))
    assert result.exit_code == 1 and "ztdf_key_unavailable" in result.output and not out.exists()
