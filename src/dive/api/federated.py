"""Federated search (identity-api-ui §B.6; CONSISTENCY #17): the local search and every approved partner in
parallel with the user's own token, a timeout and a circuit breaker per partner, partner items re-checked by the
own engine, the pages merged and de-duplicated, and an Elasticsearch-like `_clusters` status per instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from cachetools import TLRUCache

from dive.api.auth import Principal
from dive.api.circuit import CircuitBreakers
from dive.api.errors import InvalidRequestError, UnavailableError
from dive.api.metrics import ApiMetrics
from dive.api.partners import Partner, PartnerDirectory, search_url
from dive.api.pep import Pep
from dive.api.search import Searcher, subject_fingerprint
from dive.api.search_query import SearchQuery
from dive.observability.context import REQUEST_ID_HEADER

__all__ = ["FederatedSearch", "search_body"]

MAX_MERGED: Final = 500
PARTIAL_TTL_S: Final = 5
DEADLINE_MARGIN_S: Final = 0.2
CACHE_ENTRIES: Final = 10_000
_SORT_KEYS: Final[Mapping[str, tuple[str, bool]]] = {
    "-creationDate": ("creationDate", True),
    "creationDate": ("creationDate", False),
    "title": ("title", False),
    "-title": ("title", True),
    "classification": ("classification", False),
    "-classification": ("classification", True),
}
_RANKS: Final = {"UNCLASSIFIED": 0, "RESTRICTED": 1, "CONFIDENTIAL": 2, "SECRET": 3, "TOP_SECRET": 4}


@dataclass
class _Answer:
    status: str
    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    took_ms: float = 0.0
    dropped: int = 0
    error: str | None = None
    facets: Mapping[str, Any] | None = None


def search_body(query: SearchQuery, page_size: int) -> dict[str, object]:
    """The partner's `POST /api/resources/search` body: the same query, page 1 of `page × pageSize` items."""
    filters = {
        "classification": list(query.classification),
        "releasableTo": list(query.releasable_to),
        "coi": list(query.coi),
        "instance": list(query.instance),
        "fileType": list(query.file_type),
    }
    body: dict[str, object] = {"filters": {k: v for k, v in filters.items() if v}, "sort": query.sort_applied}
    if query.q:
        body["q"] = query.q
    if query.encrypted is not None:
        body["filters"]["encrypted"] = query.encrypted  # type: ignore[index]
    for name, value in (("dateFrom", query.date_from), ("dateTo", query.date_to)):
        if value is not None:
            body["filters"][name] = value.isoformat()  # type: ignore[index]
    body.update(page=1, pageSize=page_size, facets=query.facets)
    return body


class FederatedSearch:
    def __init__(
        self,
        *,
        own_code: str,
        searcher: Searcher,
        pep: Pep,
        partners: PartnerDirectory,
        http: httpx.AsyncClient,
        timeout_s: float,
        cache_ttl_s: int,
        metrics: ApiMetrics,
    ) -> None:
        self._own, self._searcher, self._pep, self._partners = own_code, searcher, pep, partners
        self._http, self._timeout_s, self._metrics = http, timeout_s, metrics
        self._circuits = CircuitBreakers(on_change=lambda name, state: metrics.set_circuit(name, "search", state))
        self._cache: TLRUCache[str, tuple[dict[str, object], int]] = TLRUCache(
            CACHE_ENTRIES, lambda key, value, now: now + value[1]
        )
        self._cache_ttl_s = cache_ttl_s

    async def search(
        self, principal: Principal, query: SearchQuery, instances: Sequence[str], *, request_id: str | None
    ) -> dict[str, object]:
        started = time.perf_counter()
        if query.page * query.page_size > MAX_MERGED:
            raise InvalidRequestError(f"federated search pages stop at {MAX_MERGED} items (page × pageSize)")
        selected = self._select(instances)
        key = self._cache_key(principal, query, selected)
        hit = self._cache.get(key)
        if hit is not None:
            return {**hit[0], "cached": True}
        answers = await self._fan_out(principal, query, selected, request_id)
        body = self._merge(query, answers, started)
        ok = [code for code, answer in answers.items() if answer.status == "ok"]
        if not ok:
            raise UnavailableError("service_unavailable", "No instance answered the federated search; try again.")
        self._cache[key] = (body, self._cache_ttl_s if len(ok) == len(answers) else PARTIAL_TTL_S)
        return body

    def _select(self, instances: Sequence[str]) -> list[str]:
        known = [self._own, *sorted(self._partners.partners)]
        if not instances:
            return known
        unknown = [code for code in instances if code.upper() not in known]
        if unknown:
            raise InvalidRequestError(f"{', '.join(unknown)} is not this instance or an approved partner")
        return [code for code in known if code in {i.upper() for i in instances}]

    def _cache_key(self, principal: Principal, query: SearchQuery, selected: list[str]) -> str:
        document = {
            "iss": principal.claims.get("iss"),
            "subject": subject_fingerprint(principal.claims),
            "query": query.described(),
            "page": query.page,
            "pageSize": query.page_size,
            "facets": query.facets,
            "instances": selected,
            "revision": self._pep.engine.revision(),
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()

    async def _fan_out(
        self, principal: Principal, query: SearchQuery, selected: list[str], request_id: str | None
    ) -> dict[str, _Answer]:
        size = min(query.page * query.page_size, MAX_MERGED)
        calls = {code: self._local(principal, query, size, request_id) for code in selected if code == self._own}
        calls |= {
            code: self._partner(self._partners.partners[code], principal, query, size, request_id)
            for code in selected
            if code != self._own
        }
        results = await asyncio.gather(*calls.values())
        return dict(zip(calls, results, strict=True))

    async def _local(self, principal: Principal, query: SearchQuery, size: int, request_id: str | None) -> _Answer:
        started = time.perf_counter()
        local_query = query.with_filters(page=1, page_size=min(size, 100), offset=0)
        try:
            page = await self._searcher.local_page(principal, local_query, offset=0, request_id=request_id)
        except UnavailableError as exc:
            return _Answer("error", took_ms=_ms(started), error=exc.code)
        return _Answer("ok", page.items, page.total, _ms(started), page.dropped, facets=page.facets)

    async def _partner(
        self, partner: Partner, principal: Principal, query: SearchQuery, size: int, request_id: str | None
    ) -> _Answer:
        started = time.perf_counter()
        if not self._circuits.allow(partner.code):
            return _Answer("unavailable", took_ms=0.0, error="circuit open")
        answer = await self._call_partner(partner, principal, query, size, request_id, started)
        self._metrics.observe_partner(partner.code, answer.status, answer.took_ms / 1000)
        if answer.status == "ok":
            self._circuits.succeeded(partner.code)
            return await self._recheck(principal, answer, partner.code, request_id)
        if answer.status in ("timeout", "unavailable") or (answer.error or "").startswith("HTTP 5"):
            self._circuits.failed(partner.code)
        return answer

    async def _call_partner(
        self,
        partner: Partner,
        principal: Principal,
        query: SearchQuery,
        size: int,
        request_id: str | None,
        started: float,
    ) -> _Answer:
        headers = {"Authorization": f"Bearer {principal.bearer}", "X-DIVE-Federated-From": self._own}
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._http.post(
                    search_url(partner.api_url),
                    json=search_body(query, min(size, 100)),
                    headers=headers,
                    timeout=self._timeout_s,
                )
        except (TimeoutError, httpx.TimeoutException):
            timeout_ms = int(self._timeout_s * 1000)
            return _Answer("timeout", took_ms=_ms(started), error=f"no answer within {timeout_ms} ms")
        except httpx.TransportError as exc:
            return _Answer("unavailable", took_ms=_ms(started), error=type(exc).__name__)
        return _parse_partner(response, started)

    async def _recheck(self, principal: Principal, answer: _Answer, code: str, request_id: str | None) -> _Answer:
        """#17: the partner decided, and this instance's engine decides again on the label it was shown."""
        now = datetime.now(UTC)
        inputs = [self._pep.input_from(principal, _resource(item), "read", now, request_id) for item in answer.items]
        decisions = await self._pep.decide_many(inputs)
        kept = [item for item, decision in zip(answer.items, decisions, strict=True) if decision.allow]
        answer.dropped = len(answer.items) - len(kept)
        answer.items = kept
        self._metrics.count_drops(code, answer.dropped)
        return answer

    def _merge(self, query: SearchQuery, answers: Mapping[str, _Answer], started: float) -> dict[str, object]:
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for code, answer in answers.items():
            for item in answer.items:
                item.setdefault("instance", code)
                seen.setdefault((str(item["instance"]), str(item.get("resourceId"))), item)
        merged = sorted(seen.values(), key=lambda item: (str(item["instance"]), str(item.get("resourceId"))))
        field_name, descending = _SORT_KEYS[query.sort_applied]
        # Stable even when reversed, so ties keep the ascending (instance, resourceId) order of the first sort.
        merged.sort(key=lambda item: _sort_value(item, field_name), reverse=descending)
        start = (query.page - 1) * query.page_size
        ok = {code: answer for code, answer in answers.items() if answer.status == "ok"}
        body: dict[str, object] = {
            "items": merged[start : start + query.page_size],
            "page": query.page,
            "pageSize": query.page_size,
            "total": sum(answer.count - answer.dropped for answer in ok.values()),
            "sortApplied": query.sort_applied,
            "tookMs": _ms(started),
            "cached": False,
            "_clusters": {
                "total": len(answers),
                "successful": len(ok),
                "skipped": len(answers) - len(ok),
                "instances": {code: _cluster(answer) for code, answer in answers.items()},
            },
        }
        if query.facets:
            body["facets"] = _sum_facets(answer.facets for answer in ok.values())
        return body


def _parse_partner(response: httpx.Response, started: float) -> _Answer:
    if response.status_code != 200:
        code = _error_code(response)
        return _Answer("error", took_ms=_ms(started), error=f"HTTP {response.status_code} {code}".strip())
    try:
        body = response.json()
        items = [item for item in body["items"] if isinstance(item, dict)]
        total = int(body.get("total", len(items)))
    except (ValueError, KeyError, TypeError):
        return _Answer("error", took_ms=_ms(started), error="the partner answered with malformed JSON")
    facets = body.get("facets") if isinstance(body.get("facets"), dict) else None
    return _Answer("ok", items, total, _ms(started), facets=facets)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _resource(item: Mapping[str, Any]) -> dict[str, object]:
    """abac §1.2 names from the REST item (CONSISTENCY #36); no `ztdf`, the tenant is ours (#17, #11)."""
    resource: dict[str, object] = {
        "resourceId": item.get("resourceId"),
        "classification": item.get("classification"),
        "releasabilityTo": item.get("releasabilityTo"),
        "COI": item.get("coi", []),
        "coiOperator": item.get("coiOperator", "ALL"),
        "caveats": item.get("caveats", []),
        "releasableToIndustry": item.get("releasableToIndustry") is True,
        "encrypted": item.get("encrypted") is True,
        "originInstance": item.get("instance"),
    }
    for name in ("originalClassification", "originalCountry", "creationDate"):
        if item.get(name) is not None:
            resource[name] = item[name]
    return resource


def _sort_value(item: Mapping[str, Any], field_name: str) -> tuple[int, object]:
    value = item.get(field_name)
    if field_name == "classification":
        return (0, _RANKS.get(str(value), -1))
    return (0 if value is not None else -1, str(value) if value is not None else "")


def _cluster(answer: _Answer) -> dict[str, object]:
    cluster: dict[str, object] = {
        "status": answer.status,
        "count": answer.count - answer.dropped if answer.status == "ok" else 0,
        "tookMs": answer.took_ms,
        "dropped": answer.dropped,
    }
    if answer.error is not None:
        cluster["error"] = answer.error
    return cluster


def _sum_facets(all_facets: Any) -> dict[str, list[dict[str, object]]]:
    totals: dict[str, dict[object, int]] = {}
    for facets in all_facets:
        for name, entries in (facets or {}).items():
            bucket = totals.setdefault(name, {})
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and "value" in entry:
                    bucket[entry["value"]] = bucket.get(entry["value"], 0) + int(entry.get("count", 0))
    return {
        name: [{"value": value, "count": count} for value, count in sorted(bucket.items(), key=lambda e: -e[1])]
        for name, bucket in totals.items()
    }


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
