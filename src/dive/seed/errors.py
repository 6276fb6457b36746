"""Errors of the seeder (spec/abac.md §6, §7).

SeedError                    (base; `code` is stable snake_case)
├─ SeedOptionsError          seed_options_invalid: a bad instance code, `as-of` time or batch size
│  └─ SeedCountError         seed_count_invalid: a document count outside 1..20,000 (§7.1)
└─ SeedLabelRejectedError    seed_label_rejected: a generated label fails the strict label check (§7.4: a bug)
"""

from __future__ import annotations

__all__ = ["SeedCountError", "SeedError", "SeedLabelRejectedError", "SeedOptionsError"]


class SeedError(Exception):
    code = "seed_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SeedOptionsError(SeedError):
    code = "seed_options_invalid"


class SeedCountError(SeedOptionsError):
    code = "seed_count_invalid"


class SeedLabelRejectedError(SeedError):
    code = "seed_label_rejected"
