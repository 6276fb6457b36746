"""Reader limits (spec/ztdf-kas.md §11); every one is checked before the data it bounds is used."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ZtdfLimits"]

MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ZtdfLimits:
    max_manifest_bytes: int = 4 * MIB
    max_policy_bytes: int = 64 * 1024
    max_kaos: int = 16
    max_assertions: int = 32
    max_segments: int = 32768
    max_encrypted_segment_bytes: int = 16 * MIB + 28
    max_payload_bytes: int = 32 * 1024 * MIB
    max_json_depth: int = 32
    max_zip_entries: int = 16


DEFAULT_LIMITS = ZtdfLimits()
