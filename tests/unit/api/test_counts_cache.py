"""The totals/facets cache of list and search (identity-api-ui §B.5.1): what its key covers, its 30 s lifetime and
the data version that invalidates it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dive.api.counts_cache import COUNTS_TTL_S, CountsCache, counts_key
from dive.api.search_query import SearchQuery, parse_search
from dive.policy.pushdown import NoContribution, SubjectFilter

NOW = datetime(2026, 1, 15, tzinfo=UTC)
SUBJECT = SubjectFilter(
    max_rank=2,
    country="USA",
    cois=frozenset({"NATO", "FVEY"}),
    holds_us_only=False,
    org="GOV",
    now_plus_300s=NOW,
    strict=False,
)
QUERY = parse_search({"q": ["security"], "classification": ["SECRET"]}, facets_default=False)


def _key(subject: SubjectFilter | NoContribution = SUBJECT, query: SearchQuery = QUERY, **changes: object) -> str:
    arguments: dict[str, object] = {"kind": "total", "revision": "rev-1", "data_version": (0, 60, 60), **changes}
    return counts_key(subject, query, **arguments)  # type: ignore[arg-type]


def test_the_key_ignores_paging_sort_and_the_request_time():
    paged = parse_search(
        {"q": ["security"], "classification": ["SECRET"], "page": ["4"], "sort": ["title"]}, facets_default=True
    )
    later = replace(SUBJECT, now_plus_300s=NOW + timedelta(seconds=20))
    assert _key(query=paged) == _key()
    assert _key(subject=later) == _key()


def test_the_key_changes_with_the_subject_filter_query_revision_data_version_and_kind():
    base = _key()
    variants = [
        _key(subject=replace(SUBJECT, max_rank=3)),
        _key(subject=replace(SUBJECT, country="FRA")),
        _key(subject=replace(SUBJECT, cois=frozenset({"NATO"}))),
        _key(subject=replace(SUBJECT, holds_us_only=True)),
        _key(subject=replace(SUBJECT, org="INDUSTRY")),
        _key(subject=replace(SUBJECT, strict=True)),
        _key(subject=NoContribution(check="federation_trusted", message="no")),
        _key(query=replace(QUERY, q="secret")),
        _key(query=replace(QUERY, classification=("TOP_SECRET",))),
        _key(query=replace(QUERY, releasable_to=("FRA",))),
        _key(query=replace(QUERY, encrypted=False)),
        _key(revision="rev-2"),
        _key(data_version=(1, 60, 60)),
        _key(data_version=(0, 61, 61)),
        _key(data_version=(0, 60, 61)),
        _key(kind="facets"),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_an_entry_lives_thirty_seconds():
    clock = [0.0]
    cache = CountsCache(timer=lambda: clock[0])
    cache.put("k", 17)
    clock[0] = COUNTS_TTL_S - 0.5
    assert cache.total("k") == 17
    clock[0] = COUNTS_TTL_S + 0.5
    assert cache.total("k") is None


def test_a_data_change_bumps_the_version_and_drops_every_entry():
    cache = CountsCache()
    cache.put("total", 3)
    cache.put("facets", {"classification": [{"value": "SECRET", "count": 3}]})
    cache.data_changed()
    assert cache.version == 1
    assert cache.total("total") is None and cache.facets("facets") is None


def test_cached_facets_are_handed_out_as_copies():
    cache = CountsCache()
    cache.put("facets", {"classification": [{"value": "SECRET", "count": 3}]})
    first = cache.facets("facets")
    assert first is not None
    first["classification"][0]["count"] = 99
    assert cache.facets("facets") == {"classification": [{"value": "SECRET", "count": 3}]}
    assert cache.total("facets") is None
