"""The ZIP container of a ZTDF file (spec/ztdf-kas.md §2.1): fixed layout on write, defensive on read."""

from __future__ import annotations

import struct
import zipfile
from typing import IO

from .errors import ContainerInvalidError, ManifestTooLargeError, SegmentLayoutError
from .limits import ZtdfLimits

__all__ = [
    "MANIFEST_ENTRY",
    "PAYLOAD_ENTRY",
    "check_payload_entry",
    "create_archive",
    "open_archive",
    "open_payload_entry",
    "read_manifest_entry",
    "write_manifest_entry",
    "write_payload_entry",
]

MANIFEST_ENTRY = "0.manifest.json"
PAYLOAD_ENTRY = "0.payload"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Everything zipfile raises on hostile input; translated to ztdf_container_invalid at this edge.
ZIP_FAILURES: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    struct.error,
)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


def create_archive(out: IO[bytes]) -> zipfile.ZipFile:
    return zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_STORED)


def write_payload_entry(archive: zipfile.ZipFile, *, force_zip64: bool) -> IO[bytes]:
    return archive.open(_entry(PAYLOAD_ENTRY), mode="w", force_zip64=force_zip64)


def write_manifest_entry(archive: zipfile.ZipFile, manifest: bytes) -> None:
    archive.writestr(_entry(MANIFEST_ENTRY), manifest)


def _is_bare_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and ".." not in name


def _check_entries(archive: zipfile.ZipFile, limits: ZtdfLimits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise ContainerInvalidError(f"the archive has {len(infos)} entries; at most {limits.max_zip_entries}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ContainerInvalidError("the archive has duplicate entry names")
    for info in infos:
        if not _is_bare_name(info.filename):
            raise ContainerInvalidError(f"entry name {info.filename!r} is not a bare file name")
        if info.flag_bits & 0x1:
            raise ContainerInvalidError(f"entry {info.filename!r} is encrypted")
        if info.compress_type not in _READABLE_COMPRESSION:
            raise ContainerInvalidError(f"entry {info.filename!r} uses compression {info.compress_type}")
    if MANIFEST_ENTRY not in names:
        raise ContainerInvalidError(f"the archive has no {MANIFEST_ENTRY} entry")


def open_archive(source: IO[bytes], limits: ZtdfLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(source, mode="r")
    except ZIP_FAILURES as exc:
        raise ContainerInvalidError(f"not a readable ZIP archive: {exc}") from exc
    try:
        _check_entries(archive, limits)
    except ContainerInvalidError:
        archive.close()
        raise
    return archive


def read_manifest_entry(archive: zipfile.ZipFile, limits: ZtdfLimits) -> bytes:
    info = archive.getinfo(MANIFEST_ENTRY)
    if info.file_size > limits.max_manifest_bytes:
        raise ManifestTooLargeError(f"the manifest declares {info.file_size} bytes; limit {limits.max_manifest_bytes}")
    try:
        with archive.open(info) as entry:
            data = entry.read(limits.max_manifest_bytes + 1)  # headers can lie about the size
    except ZIP_FAILURES as exc:
        raise ContainerInvalidError(f"the manifest entry cannot be read: {exc}") from exc
    if len(data) > limits.max_manifest_bytes:
        raise ManifestTooLargeError(f"the manifest is over the {limits.max_manifest_bytes}-byte limit")
    return data


def check_payload_entry(archive: zipfile.ZipFile, name: str, expected_size: int) -> None:
    """The payload entry named by `payload.url` exists and its size equals Σ encryptedSegmentSize."""
    if not _is_bare_name(name) or name == MANIFEST_ENTRY:
        raise ContainerInvalidError(f"payload.url {name!r} is not a bare entry name")
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ContainerInvalidError(f"the archive has no payload entry {name!r}") from exc
    if info.file_size != expected_size:
        raise SegmentLayoutError(f"the payload has {info.file_size} bytes; the segments declare {expected_size}")


def open_payload_entry(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    try:
        return archive.open(name)
    except ZIP_FAILURES as exc:
        raise ContainerInvalidError(f"the payload entry cannot be read: {exc}") from exc
