"""Test helpers for ZTDF archives: build edited copies for tamper tests."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rezip(
    data: bytes,
    *,
    manifest: Callable[[dict], dict] | None = None,
    payload: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """Copy of a ZTDF archive with its manifest and/or payload edited (tamper tests)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    if manifest is not None:
        entries["0.manifest.json"] = json.dumps(manifest(json.loads(entries["0.manifest.json"]))).encode()
    if payload is not None:
        entries["0.payload"] = payload(entries["0.payload"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in entries.items():
            target.writestr(name, content)
    return out.getvalue()


def flip_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]
