"""Parameters of list and search (identity-api-ui §B.5.1), validated once at the edge into a `SearchQuery`."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Final

from dive.api.errors import InvalidRequestError

__all__ = ["FILTER_NAMES", "SORTS", "SearchQuery", "decode_cursor", "encode_cursor", "parse_search"]

SORTS: Final = ("-creationDate", "creationDate", "title", "-title", "classification", "-classification", "relevance")
FILTER_NAMES: Final = ("classification", "releasableTo", "coi", "instance", "fileType")
MAX_PAGE_SIZE: Final = 100
MAX_TERM_COUNT: Final = 16
MAX_Q_LENGTH: Final = 256
MAX_FILTER_VALUES: Final = 64
MAX_PAGE: Final = 10_000
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    classification: tuple[str, ...] = ()
    releasable_to: tuple[str, ...] = ()
    coi: tuple[str, ...] = ()
    instance: tuple[str, ...] = ()
    file_type: tuple[str, ...] = ()
    encrypted: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "-creationDate"
    page: int = 1
    page_size: int = 25
    facets: bool = False
    offset: int = 0

    @property
    def terms(self) -> list[str]:
        return (self.q or "").split()[:MAX_TERM_COUNT]

    @property
    def sort_applied(self) -> str:
        """`relevance` needs a ranking the store does not keep; it falls back to the default order."""
        return "-creationDate" if self.sort == "relevance" else self.sort

    def described(self) -> dict[str, object]:
        """The query as recorded in audit and hashed into cursors (no paging)."""
        document = asdict(replace(self, page=1, offset=0, facets=False))
        return {key: value for key, value in document.items() if value not in (None, (), False)} | {
            "date_from": str(self.date_from) if self.date_from else None,
            "date_to": str(self.date_to) if self.date_to else None,
        }

    def with_filters(self, **changes: object) -> SearchQuery:
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_search(params: Mapping[str, Sequence[str]], *, facets_default: bool) -> SearchQuery:
    """`params` maps each name (with `x[]` folded into `x`) to its values; raises 400 `invalid_request`."""
    for name, values in params.items():
        if any(_CONTROL.search(value) for value in values):  # NUL truncates LIKE patterns; PostgreSQL refuses it
            raise InvalidRequestError(f"{name} contains control characters")
    q = _single(params, "q")
    if q is not None and len(q) > MAX_Q_LENGTH:
        raise InvalidRequestError(f"q is longer than {MAX_Q_LENGTH} characters")
    page_size = _int(params, "pageSize", 25, 1, MAX_PAGE_SIZE)
    query = SearchQuery(
        q=q.strip() or None if q is not None else None,
        classification=_many(params, "classification"),
        releasable_to=tuple(value.upper() for value in _many(params, "releasableTo")),
        coi=_many(params, "coi"),
        instance=tuple(value.upper() for value in _many(params, "instance")),
        file_type=tuple(value.lower() for value in _many(params, "fileType")),
        encrypted=_bool(params, "encrypted", None),
        date_from=_date(params, "dateFrom"),
        date_to=_date(params, "dateTo"),
        sort=_sort(_single(params, "sort"), q),
        page=_int(params, "page", 1, 1, MAX_PAGE),
        page_size=page_size,
        facets=bool(_bool(params, "facets", facets_default)),
    )
    return replace(query, offset=(query.page - 1) * page_size)


def encode_cursor(query: SearchQuery, fingerprint: str, offset: int) -> str:
    document = {"v": 1, "offset": offset, "queryHash": _query_hash(query, fingerprint)}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str, query: SearchQuery, fingerprint: str) -> int:
    """The offset a cursor points at; 400 when it is malformed or was issued for another query or subject."""
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, query_hash = document["offset"], document["queryHash"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError("the cursor is malformed; start again without one") from exc
    if not isinstance(offset, int) or offset < 0 or query_hash != _query_hash(query, fingerprint):
        raise InvalidRequestError("the cursor belongs to another query or subject; start again without one")
    return offset


def _query_hash(query: SearchQuery, fingerprint: str) -> str:
    text = json.dumps({"query": query.described(), "subject": fingerprint}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or ()
    if len(values) > 1:
        raise InvalidRequestError(f"{name} may be given once")
    return values[0] if values else None


def _many(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    values = [value.strip() for value in params.get(name) or () if value.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidRequestError(f"{name} accepts at most {MAX_FILTER_VALUES} values")
    if any(len(value) > 64 for value in values):
        raise InvalidRequestError(f"a {name} value is longer than 64 characters")
    return tuple(dict.fromkeys(values))


def _int(params: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int) -> int:
    raw = _single(params, name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidRequestError(f"{name}={raw!r} is not an integer in {low}..{high}")
    return int(raw)


def _bool(params: Mapping[str, Sequence[str]], name: str, default: bool | None) -> bool | None:
    raw = _single(params, name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidRequestError(f"{name}={raw!r} is not true or false")
    return raw.lower() == "true"


def _date(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    raw = _single(params, name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise InvalidRequestError(f"{name}={raw!r} is not an ISO date (YYYY-MM-DD)") from exc


def _sort(raw: str | None, q: str | None) -> str:
    sort = raw or "-creationDate"
    if sort not in SORTS:
        raise InvalidRequestError(f"sort={sort!r} is not one of {', '.join(SORTS)}")
    if sort == "relevance" and not (q or "").strip():
        raise InvalidRequestError("sort=relevance needs q")
    return sort
