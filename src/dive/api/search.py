"""List and search (identity-api-ui §B.3.3, §B.5.1): the policy pushed into SQL, every returned item re-checked by
the engine, a refill when one is dropped (a drop is a pushdown bug: counted and logged), one audit record per search.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dive.api.auth import Principal
from dive.api.catalog_query import FACETS, count_statement, data_stamp_statement, facet_statement, page_statement
from dive.api.counts_cache import CountsCache, Facets, counts_key
from dive.api.errors import UnavailableError
from dive.api.metrics import ApiMetrics
from dive.api.pep import Pep
from dive.api.search_query import SearchQuery, decode_cursor, encode_cursor
from dive.api.views import item_json
from dive.policy.pushdown import NoContribution, SubjectFilter, compute_subject_filter
from dive.policy.registry_feed import RegistryFeed
from dive.store.models.resources import Resource

__all__ = ["SearchPage", "Searcher", "subject_fingerprint"]

MAX_REFILLS: Final = 3
_FINGERPRINT_CLAIMS: Final = (
    "iss", "sub", "uniqueID", "clearance", "clearanceCountry", "countryOfAffiliation", "acpCOI", "organizationType",
    "acr", "amr",
)  # fmt: skip

log = logging.getLogger(__name__)


def subject_fingerprint(claims: Mapping[str, Any]) -> str:
    """Every claim the policy reads (acr/amr included, §B.6), hashed: keys of cursors and the federated cache."""
    document = {name: claims.get(name) for name in _FINGERPRINT_CLAIMS}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SearchPage:
    items: list[dict[str, object]]
    total: int
    dropped: int
    facets: dict[str, list[dict[str, object]]] | None
    next_offset: int | None
    restriction: NoContribution | None


class Searcher:
    def __init__(
        self, *, sessions: sessionmaker[Session], pep: Pep, feed: RegistryFeed, instance_code: str, metrics: ApiMetrics
    ) -> None:
        self._sessions, self._pep, self._feed = sessions, pep, feed
        self._code, self._metrics = instance_code, metrics
        self._counts = CountsCache()

    def data_changed(self) -> None:
        """§B.5.1: a stored document was added, removed or changed, so cached totals and facets are dropped."""
        self._counts.data_changed()

    async def search(
        self,
        principal: Principal,
        query: SearchQuery,
        *,
        cursor: str | None,
        request_id: str | None,
        requested_by: str | None,
    ) -> dict[str, object]:
        started = time.perf_counter()
        fingerprint = subject_fingerprint(principal.claims)
        offset = decode_cursor(cursor, query, fingerprint) if cursor else query.offset
        page = await self.local_page(principal, query, offset=offset, request_id=request_id)
        took_ms = (time.perf_counter() - started) * 1000
        await self._pep.record_list(
            principal,
            query=query.described(),
            returned=len(page.items),
            dropped=page.dropped,
            revision=self._pep.engine.revision(),
            requested_by=requested_by,
            request_id=request_id,
            latency_ms=took_ms,
        )
        body: dict[str, object] = {
            "items": page.items,
            "page": offset // query.page_size + 1,
            "pageSize": query.page_size,
            "total": page.total,
            "nextCursor": None if page.next_offset is None else encode_cursor(query, fingerprint, page.next_offset),
            "prevCursor": encode_cursor(query, fingerprint, max(0, offset - query.page_size)) if offset else None,
            "sortApplied": query.sort_applied,
            "tookMs": round(took_ms, 3),
            "policyRevision": self._pep.engine.revision(),
        }
        if page.facets is not None:
            body["facets"] = page.facets
        if page.restriction is not None:  # abac §9.1: this instance lists nothing, and says why
            body["restriction"] = {"check": page.restriction.check, "message": page.restriction.message}
        return body

    async def local_page(
        self, principal: Principal, query: SearchQuery, *, offset: int, request_id: str | None
    ) -> SearchPage:
        now = datetime.now(UTC)
        subject = compute_subject_filter(
            principal.claims, authenticated=True, tenant=self._code, now=now, data=self._feed.data
        )
        rows, total, facets = await self._read(subject, query, offset, query.page_size)
        items, dropped, consumed = await self._recheck(principal, rows, now, request_id)
        refills = 0
        while dropped and len(items) < query.page_size and len(rows) == query.page_size and refills < MAX_REFILLS:
            refills += 1
            rows, _, _ = await self._read(subject, query, offset + consumed, query.page_size, counts=False)
            more, more_dropped, more_consumed = await self._recheck(principal, rows, now, request_id)
            items += more[: query.page_size - len(items)]
            dropped, consumed = dropped + more_dropped, consumed + more_consumed
        if dropped:
            self._metrics.count_drops("local", dropped)
            log.warning("search pushdown returned denied items", extra={"dropped": dropped, "request_id": request_id})
        next_offset = offset + consumed if offset + consumed < total else None
        restriction = subject if isinstance(subject, NoContribution) else None
        return SearchPage(items, max(0, total - dropped), dropped, facets, next_offset, restriction)

    async def _recheck(
        self, principal: Principal, rows: list[Resource], now: datetime, request_id: str | None
    ) -> tuple[list[dict[str, object]], int, int]:
        inputs = [self._pep.read_input(principal, row, now=now, request_id=request_id) for row in rows]
        decisions = await self._pep.decide_many(inputs)
        items = [item_json(row) for row, decision in zip(rows, decisions, strict=True) if decision.allow]
        return items, len(rows) - len(items), len(rows)

    async def _read(
        self,
        subject: SubjectFilter | NoContribution,
        query: SearchQuery,
        offset: int,
        limit: int,
        *,
        counts: bool = True,
    ) -> tuple[list[Resource], int, dict[str, list[dict[str, object]]] | None]:
        revision = self._pep.engine.revision()

        def read() -> tuple[list[Resource], int, Facets | None]:
            with self._sessions() as session:
                rows = list(session.scalars(page_statement(subject, query, offset, limit)))
                session.expunge_all()
                if not counts:
                    return rows, 0, None
                stamp = session.execute(data_stamp_statement()).one()
                version = (self._counts.version, int(stamp[0]), int(stamp[1] or 0))
                return (
                    rows,
                    self._total(session, subject, query, revision, version),
                    self._facets(session, subject, query, revision, version),
                )

        try:
            return await anyio.to_thread.run_sync(read)
        except SQLAlchemyError as exc:
            log.exception("resource query failed", extra={"request_id": None})
            raise UnavailableError("service_unavailable", "The resource store is unreachable; try again.") from exc

    def _total(
        self,
        session: Session,
        subject: SubjectFilter | NoContribution,
        query: SearchQuery,
        revision: str,
        version: tuple[int, ...],
    ) -> int:
        key = counts_key(subject, query, kind="total", revision=revision, data_version=version)
        total = self._counts.total(key)
        if total is None:
            total = int(session.scalar(count_statement(subject, query)) or 0)
            self._counts.put(key, total)
        return total

    def _facets(
        self,
        session: Session,
        subject: SubjectFilter | NoContribution,
        query: SearchQuery,
        revision: str,
        version: tuple[int, ...],
    ) -> Facets | None:
        if not query.facets:
            return None
        key = counts_key(subject, query, kind="facets", revision=revision, data_version=version)
        facets = self._counts.facets(key)
        if facets is None:
            facets = _count_facets(session, subject, query)
            self._counts.put(key, facets)
        return facets


def _count_facets(session: Session, subject: SubjectFilter | NoContribution, query: SearchQuery) -> Facets:
    found: dict[str, list[dict[str, object]]] = {}
    for facet in FACETS:
        rows = session.execute(facet_statement(subject, query, facet)).all()
        values = [
            {"value": value.upper() if facet == "instance" else value, "count": int(count)}
            for value, count in rows
            if value is not None
        ]
        found[facet] = sorted(values, key=lambda entry: (-int(entry["count"]), str(entry["value"])))  # type: ignore[call-overload]
    return found
