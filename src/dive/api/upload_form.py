"""The upload form (identity-api-ui §B.5.6 steps 2–3; CONSISTENCY #34): type sniffing and the api's own form checks.

The label's coherence rules (V1–V7, P8, P10) are the policy's `labels.check`; the api maps its violation codes to
§B.5.6's names so that every problem comes back at once in one 422 `validation_failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from dive.api.errors import UnsupportedMediaTypeError
from dive.types import LEVELS

__all__ = ["CAVEATS", "LABEL_CODES", "UploadForm", "form_errors", "label_errors", "sniff_file_type"]

CAVEATS: Final = ("NOFORN", "RELIDO", "PROPIN", "ORCON", "IMCON")
TEXT_TYPES: Final[Mapping[str, str]] = {
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
}
BINARY_TYPES: Final[Mapping[str, str]] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
}
# CONSISTENCY #34: the policy's violation codes as §B.5.6 names them.
LABEL_CODES: Final[Mapping[str, str]] = {
    "V1": "coi_exclusive",
    "V2": "coi_incompatible",
    "V3": "noforn_requires_us_only",
    "V4": "noforn_requires_us_only",
    "V5": "coi_any_subset_conflict",
    "V6": "releasability_outside_coi",
    "V7": "coi_unknown",
    "P8": "classification_invalid",
    "P10": "country_code_invalid",
}


@dataclass(frozen=True, kw_only=True)
class UploadForm:
    title: str
    summary: str | None
    classification: str
    releasability: tuple[str, ...]
    cois: tuple[str, ...]
    coi_operator: str
    caveats: tuple[str, ...]
    industry: bool
    filename: str


def form_errors(form: UploadForm) -> list[dict[str, str]]:
    """The checks the policy does not make: title, summary, empty releasability, operator and caveat vocabulary."""
    errors: list[dict[str, str]] = []
    if not 1 <= len(form.title.strip()) <= 200:
        errors.append(_error("title", "title_invalid", "The title must have 1 to 200 characters."))
    if form.summary is not None and len(form.summary) > 2000:
        errors.append(_error("summary", "title_invalid", "The summary must have at most 2,000 characters."))
    if form.classification not in LEVELS:
        errors.append(_error("classification", "classification_invalid", f"{form.classification!r} is not a level."))
    if not form.releasability:
        errors.append(_error("releasabilityTo", "releasability_empty", "Name at least one releasable country."))
    if form.coi_operator not in ("ALL", "ANY"):
        errors.append(_error("coiOperator", "coi_operator_invalid", "The COI operator must be ALL or ANY."))
    errors += [
        _error("caveats", "caveat_invalid", f"{caveat!r} is not one of {', '.join(CAVEATS)}.")
        for caveat in form.caveats
        if caveat not in CAVEATS
    ]
    return errors


def label_errors(codes: Sequence[str], violations: Sequence[str]) -> list[dict[str, str]]:
    return [
        _error("label", LABEL_CODES.get(code, "label_invalid"), message)
        for code, message in zip(codes, violations, strict=False)
    ]


def sniff_file_type(filename: str, content: bytes) -> tuple[str, str]:
    """`(file type, MIME type)` when the extension is allowed and agrees with the content; otherwise 415."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in TEXT_TYPES:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedMediaTypeError(f"{filename} is not UTF-8 text as its extension says") from exc
        return extension, TEXT_TYPES[extension]
    if extension not in BINARY_TYPES:
        raise UnsupportedMediaTypeError(f"files of type {extension or '(none)'!r} cannot be uploaded")
    if not _magic_matches(extension, content):
        raise UnsupportedMediaTypeError(f"the content of {filename} is not a {extension} file")
    return ("jpg" if extension == "jpeg" else extension), BINARY_TYPES[extension]


def _magic_matches(extension: str, content: bytes) -> bool:
    head = content[:16]
    checks = {
        "pdf": head.startswith(b"%PDF-"),
        "png": head.startswith(b"\x89PNG\r\n\x1a\n"),
        "jpg": head.startswith(b"\xff\xd8\xff"),
        "jpeg": head.startswith(b"\xff\xd8\xff"),
        "gif": head.startswith((b"GIF87a", b"GIF89a")),
        "mp3": head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
        "m4a": head[4:8] == b"ftyp",
        "mp4": head[4:8] == b"ftyp",
    }
    if extension in ("docx", "xlsx", "pptx"):  # Office Open XML: a ZIP archive
        return head.startswith(b"PK\x03\x04")
    return checks.get(extension, False)


def _error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}
