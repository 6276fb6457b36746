"""The decision cache (spec/abac.md §8; CONSISTENCY #6): key, lifetimes, exclusions, bound and revision flush."""

from __future__ import annotations

import copy
import hashlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dive.policy import PolicyBundle, PolicyUnavailableError, RegistryData, build_data
from dive.policy.cache import (
    IN_PROCESS_MAX_ENTRIES,
    CachedEngine,
    InProcessDecisionCache,
    decision_cache_key,
    ttl_for,
)
from dive.policy.engines import RegopyEngine, RemoteOpaEngine

NOW: Final = datetime(2026, 3, 2, 8, 15, 0, 123456, tzinfo=UTC)
ISSUER: Final = "https://localhost:8443/realms/dive-v3-broker-usa"
REVISION: Final = "a" * 64


def _input(classification: str = "SECRET", **resource: object) -> dict[str, Any]:
    return {
        "subject": {
            "authenticated": True,
            "uniqueID": "testuser-usa-5",
            "clearance": "TOP SECRET",
            "countryOfAffiliation": "USA",
            "acpCOI": ["NATO", "FVEY", "US-ONLY"],
            "organizationType": "GOV",
            "issuer": ISSUER,
        },
        "action": {"operation": "read"},
        "resource": {
            "resourceId": "doc-USA-seed-00001",
            "classification": classification,
            "releasabilityTo": ["USA", "GBR"],
            "COI": ["FVEY"],
            "coiOperator": "ALL",
            "caveats": [],
            "releasableToIndustry": False,
            "creationDate": "2026-01-01T00:00:00Z",
            "encrypted": True,
            "kasUrls": ["https://localhost:9000/kas"],
            "ztdf": {"integrityValidated": True, "policyHash": "ab" * 32, "payloadHash": "c2ln"},
            **resource,
        },
        "context": {
            "currentTime": "2026-03-02T08:15:00.123456Z",
            "requestId": "req-00000001",
            "sourceIP": "127.0.0.1",
            "acr": "2",
            "amr": ["pwd", "otp"],
            "tenant": "USA",
        },
    }


def _data(**tenants: dict[str, object]) -> dict[str, object]:
    registry = RegistryData(tenant_id="USA", trusted_issuers={ISSUER: "USA"}, tenants=tenants)
    return build_data(PolicyBundle.load().static_data, registry)


@pytest.fixture(scope="module")
def pdp() -> RegopyEngine:
    return RegopyEngine(data=_data())


# ---------------------------------------------------------------------------------------------------------------
# §8.2 key


def _leaf_paths(value: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    if isinstance(value, dict):
        for name, member in value.items():
            yield from _leaf_paths(member, (*prefix, name))
    elif isinstance(value, list) and value:
        for index, member in enumerate(value):
            yield from _leaf_paths(member, (*prefix, index))
    else:
        yield prefix


def _replaced(document: dict[str, Any], path: tuple[object, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _read(document: dict[str, Any], path: tuple[object, ...]) -> object:
    value: Any = document
    for step in path:
        value = value[step]
    return value


BASE: Final = _input()
VOLATILE: Final = [("context", "currentTime"), ("context", "requestId"), ("context", "sourceIP")]
STABLE_PATHS: Final = [path for path in _leaf_paths(BASE) if path not in VOLATILE]
json_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.lists(st.text(max_size=4)))


@given(path=st.sampled_from(STABLE_PATHS), value=json_values)
def test_changing_any_single_non_volatile_field_changes_the_key(path: tuple[object, ...], value: object):
    changed = _replaced(BASE, path, value)
    if changed == BASE or (path[:2] in {("subject", "acpCOI"), ("context", "amr")} and _is_permutation(changed, path)):
        return  # the same value, or a reordering of a list the key sorts on purpose
    assert decision_cache_key(REVISION, changed) != decision_cache_key(REVISION, BASE), path


def _is_permutation(changed: dict[str, Any], path: tuple[object, ...]) -> bool:
    before, after = _read(BASE, path[:2]), _read(changed, path[:2])
    return sorted(map(repr, before)) == sorted(map(repr, after))  # type: ignore[arg-type]


@given(path=st.sampled_from(VOLATILE), value=json_values)
def test_volatile_context_fields_never_change_the_key(path: tuple[object, ...], value: object):
    assert decision_cache_key(REVISION, _replaced(BASE, path, value)) == decision_cache_key(REVISION, BASE)


def test_key_ignores_the_order_of_acp_coi_and_amr_but_not_of_releasability():
    reordered = copy.deepcopy(BASE)
    reordered["subject"]["acpCOI"].reverse()
    reordered["context"]["amr"].reverse()
    assert decision_cache_key(REVISION, reordered) == decision_cache_key(REVISION, BASE)
    reordered["resource"]["releasabilityTo"].reverse()
    assert decision_cache_key(REVISION, reordered) != decision_cache_key(REVISION, BASE)


def test_key_covers_the_revision_and_added_or_removed_fields():
    assert decision_cache_key("b" * 64, BASE) != decision_cache_key(REVISION, BASE)
    without_ztdf = copy.deepcopy(BASE)
    del without_ztdf["resource"]["ztdf"]
    assert decision_cache_key(REVISION, without_ztdf) != decision_cache_key(REVISION, BASE)
    with_country = copy.deepcopy(BASE)
    with_country["subject"]["clearanceCountry"] = "USA"
    assert decision_cache_key(REVISION, with_country) != decision_cache_key(REVISION, BASE)


def test_key_is_the_sha256_of_canonical_json_of_rev_and_input():
    minimal = {"subject": {"acpCOI": ["b", "a"]}, "context": {"tenant": "USA", "currentTime": "x"}}
    canonical = '{"input":{"context":{"tenant":"USA"},"subject":{"acpCOI":["a","b"]}},"rev":"r"}'
    assert decision_cache_key("r", minimal) == hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# §8.3 lifetime and exclusions, on real decisions


@pytest.mark.parametrize(
    ("classification", "ttl"),
    [("TOP_SECRET", 15), ("SECRET", 30), ("CONFIDENTIAL", 60), ("RESTRICTED", 300), ("UNCLASSIFIED", 300)],
)
def test_ttl_follows_the_classification(pdp: RegopyEngine, classification: str, ttl: int):
    decision = pdp.decide(_input(classification))
    assert decision.allow
    assert ttl_for(decision, _input(classification)) == ttl


def test_a_deny_for_a_lasting_reason_is_cached_like_an_allow(pdp: RegopyEngine):
    denied = _input("SECRET", releasabilityTo=["GBR"])
    decision = pdp.decide(denied)
    assert decision.failed == ("country_releasable",)
    assert ttl_for(decision, denied) == 30


def test_an_embargo_denial_is_never_cached(pdp: RegopyEngine):
    future = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    embargoed = _input("UNCLASSIFIED", creationDate=future)
    decision = pdp.decide(embargoed)
    assert decision.failed == ("embargo_passed",)
    assert ttl_for(decision, embargoed) is None


def test_a_decision_on_an_invalid_classification_is_never_cached(pdp: RegopyEngine):
    invalid = _input("SECRETISH")
    decision = pdp.decide(invalid)
    assert not decision.allow
    assert ttl_for(decision, invalid) is None


# ---------------------------------------------------------------------------------------------------------------
# The in-process cache


class Clock:
    """A settable monotonic clock for the cache's timer."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_in_process_entries_expire_after_their_own_ttl(pdp: RegopyEngine):
    clock = Clock()
    cache = InProcessDecisionCache(timer=clock)
    decision = pdp.decide(_input())
    cache.put("short", decision, 15)
    cache.put("long", decision, 300)
    clock.now += 15
    assert (cache.get("short"), cache.get("long")) == (None, decision)
    clock.now += 285
    assert cache.get("long") is None and len(cache) == 0


def test_in_process_cache_is_bounded_and_drops_the_least_recently_used(pdp: RegopyEngine):
    cache = InProcessDecisionCache(max_entries=3)
    decision = pdp.decide(_input())
    for key in ("a", "b", "c"):
        cache.put(key, decision, 60)
    assert cache.get("a") is decision  # touch a: b is now the least recently used
    cache.put("d", decision, 60)
    assert [cache.get(key) is not None for key in "abcd"] == [True, False, True, True]
    assert IN_PROCESS_MAX_ENTRIES == 50_000


# ---------------------------------------------------------------------------------------------------------------
# CachedEngine


def test_cached_engine_answers_a_repeated_input_from_the_cache(pdp: RegopyEngine):
    cache = InProcessDecisionCache()
    cached = CachedEngine(pdp, cache)
    first = cached.decide(_input())
    later = _input()
    later["context"]["currentTime"] = "2026-03-02T08:15:09Z"
    assert cached.decide(later) is first  # the engine builds a new object for every decision it makes
    assert len(cache) == 1
    assert cache.get(decision_cache_key(pdp.revision(), _input())) is first


def test_cached_engine_does_not_store_embargo_denials(pdp: RegopyEngine):
    cache = InProcessDecisionCache()
    embargoed = _input(creationDate="2027-01-01T00:00:00Z")
    first = CachedEngine(pdp, cache).decide(embargoed)
    assert first.failed == ("embargo_passed",) and len(cache) == 0


def test_cached_engine_decides_a_batch_of_hits_and_misses_in_order(pdp: RegopyEngine):
    cached = CachedEngine(pdp, InProcessDecisionCache())
    hit = cached.decide(_input("SECRET"))
    inputs = [_input("UNCLASSIFIED"), _input("SECRET"), _input("SECRET", releasabilityTo=["GBR"])]
    decisions = cached.decide_many(inputs)
    assert decisions[1] is hit
    assert [d.allow for d in decisions] == [True, True, False]
    assert decisions[0].evaluation_details["resource"]["classification"] == "UNCLASSIFIED"


def test_a_new_revision_flushes_the_namespace_and_decides_afresh():
    engine = RegopyEngine(data=_data())
    cache = InProcessDecisionCache()
    cached = CachedEngine(engine, cache)
    before = cached.decide(_input("TOP_SECRET"))
    assert before.allow
    old_key = decision_cache_key(engine.revision(), _input("TOP_SECRET"))
    engine.reload(data=_data(USA={"aal_top_secret": 3}))  # the registry changed: TS now needs AAL3
    after = cached.decide(_input("TOP_SECRET"))
    assert after.failed == ("aal_sufficient",)
    assert cache.get(old_key) is None and len(cache) == 1


def test_revision_is_polled_at_most_every_interval_and_learnt_from_decisions():
    engine = RegopyEngine(data=_data())
    clock = Clock()
    cache = InProcessDecisionCache()
    cached = CachedEngine(engine, cache, revision_poll_s=5.0, clock=clock)
    first = cached.decide(_input())
    engine.reload(data=_data(USA={"strict_coi_coherence": True}))
    clock.now += 4
    assert cached.decide(_input()) is first  # within the poll interval the PEP may still serve it (§8.4)
    clock.now += 1
    assert cached.decide(_input()) is not first
    assert cached.revision() == engine.revision()


def test_reload_through_the_cached_engine_flushes_at_once():
    engine = RegopyEngine(data=_data())
    cache = InProcessDecisionCache()
    cached = CachedEngine(engine, cache, revision_poll_s=3600)
    cached.decide(_input())
    cached.reload(data=_data(USA={"aal_top_secret": 3}))
    assert len(cache) == 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_engine_errors_propagate_and_nothing_is_cached():
    cache = InProcessDecisionCache()
    with RemoteOpaEngine(f"http://127.0.0.1:{_closed_port()}") as unreachable:
        cached = CachedEngine(unreachable, cache)
        with pytest.raises(PolicyUnavailableError) as error:
            cached.decide(_input())
    assert error.value.code == "policy_unavailable"
    assert len(cache) == 0


def test_check_label_goes_to_the_engine_uncached(pdp: RegopyEngine):
    check = CachedEngine(pdp, InProcessDecisionCache()).check_label({"classification": "SECRET"}, True)
    assert not check.valid and check.violations
