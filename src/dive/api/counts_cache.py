"""Short-lived totals and facet counts of list and search (identity-api-ui §B.5.1).

§B.5.1 allows `total` and the facet counts to be kept for 30 s under (subject, query, filters, policy revision, data
version). The subject part is the subject's search filter (abac §9.1): the counts are a function of that filter, the
query's filters and the stored documents, so two subjects with the same filter share an entry. The request time is
left out (an embargo lifting shows up within the 30 s the spec allows). Paging and sort are left out: they do not
change a count. The data version is this process's counter, bumped on every upload and integrity change it makes,
together with a stamp of the table (row count and highest key) that other writers move too.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Final

from cachetools import TTLCache

from dive.api.search_query import SearchQuery
from dive.policy.pushdown import NoContribution, SubjectFilter

__all__ = ["COUNTS_TTL_S", "CountsCache", "Facets", "counts_key"]

COUNTS_TTL_S: Final = 30.0  # §B.5.1: "MAY be cached for 30 s"
MAX_ENTRIES: Final = 10_000
Facets = dict[str, list[dict[str, object]]]
_PAGING_FIELDS: Final = ("sort", "page", "page_size", "offset", "facets")


def counts_key(
    subject: SubjectFilter | NoContribution,
    query: SearchQuery,
    *,
    kind: str,
    revision: str,
    data_version: tuple[int, ...],
) -> str:
    """SHA-256 of the canonical JSON of everything a count depends on; `kind` is `total` or `facets`."""
    subject_part = asdict(subject)
    subject_part.pop("now_plus_300s", None)  # time moves on; §B.5.1 accepts 30 s of staleness
    subject_part["type"] = type(subject).__name__
    filters = {name: value for name, value in asdict(query).items() if name not in _PAGING_FIELDS}
    document = {
        "kind": kind,
        "subject": subject_part,
        "query": filters,
        "revision": revision,
        "data": list(data_version),
    }
    text = json.dumps(document, sort_keys=True, default=_json_default, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, frozenset | set):
        return sorted(value)
    return str(value)


class CountsCache:
    """A thread-safe TTL cache of totals and facets, plus the process's data version counter."""

    def __init__(
        self,
        *,
        ttl_s: float = COUNTS_TTL_S,
        max_entries: int = MAX_ENTRIES,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[str, int | Facets] = TTLCache(max_entries, ttl_s, timer=timer)
        self._lock = threading.Lock()
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def data_changed(self) -> None:
        """An upload, delete or integrity change in this process: every earlier entry becomes unreachable."""
        with self._lock:
            self._version += 1
            self._entries.clear()

    def total(self, key: str) -> int | None:
        with self._lock:
            found = self._entries.get(key)
        return found if isinstance(found, int) else None

    def facets(self, key: str) -> Facets | None:
        with self._lock:
            found = self._entries.get(key)
        if not isinstance(found, dict):
            return None
        return {name: [dict(entry) for entry in entries] for name, entries in found.items()}  # callers may merge

    def put(self, key: str, value: int | Facets) -> None:
        with self._lock:
            self._entries[key] = value
