from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.ztdf import KasTarget, Label, LocalKeySource, write_ztdf

from .helpers import public_pem

REPO_ROOT = Path(__file__).resolve().parents[3]


def interop_dir() -> Path:
    return Path(os.environ.get("DIVE_INTEROP_DIR") or REPO_ROOT / ".." / "shared" / "interop")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    path = interop_dir() / "opentdf-golden"
    if not (path / "golden-r1-private.pem").is_file():
        pytest.skip(f"OpenTDF golden files not found at {path}; set DIVE_INTEROP_DIR")
    return path


@pytest.fixture(scope="session")
def golden_keys(golden_dir: Path) -> LocalKeySource:
    return LocalKeySource.from_pem((golden_dir / "golden-r1-private.pem").read_bytes(), "golden-r1")


@pytest.fixture(scope="session")
def kas_keys() -> dict[str, rsa.RSAPrivateKey]:
    return {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("usa-rsa-1", "fra-rsa-1")}


@pytest.fixture(scope="session")
def targets(kas_keys: dict[str, rsa.RSAPrivateKey]) -> list[KasTarget]:
    return [
        KasTarget("https://localhost:9000/kas", "usa-rsa-1", public_pem(kas_keys["usa-rsa-1"])),
        KasTarget("https://localhost:9010/kas", "fra-rsa-1", public_pem(kas_keys["fra-rsa-1"])),
    ]


@pytest.fixture(scope="session")
def local_keys(kas_keys: dict[str, rsa.RSAPrivateKey]) -> LocalKeySource:
    return LocalKeySource(kas_keys)


@pytest.fixture(scope="session")
def label() -> Label:
    return Label(
        classification="SECRET",
        releasable_to=("GBR", "USA"),
        originator_country="USA",
        creation_date="2026-03-01T10:00:00Z",
        cois=("FVEY",),
    )


@pytest.fixture(scope="session")
def make_ztdf(label: Label, targets: list[KasTarget]) -> Callable[..., bytes]:
    def make(plaintext: bytes = b"coalition logistics report", **options: object) -> bytes:
        out = io.BytesIO()
        options.setdefault("kas_targets", targets[:1])
        write_ztdf(plaintext, out, label=label, **options)  # type: ignore[arg-type]
        return out.getvalue()

    return make
