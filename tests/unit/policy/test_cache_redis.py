"""The Redis decision cache against the real Redis (spec/abac.md §8.1; CONSISTENCY #25): db 15, a unique prefix."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from typing import Any, Final

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dive.policy import PolicyBundle, RegistryData, build_data
from dive.policy.cache import CachedEngine, DecisionCacheUnavailableError, decision_cache_key
from dive.policy.cache_redis import RedisDecisionCache
from dive.policy.engines import RegopyEngine

pytestmark = pytest.mark.redis

DEFAULT_TEST_REDIS_URL: Final = "redis://127.0.0.1:6379/15"
ISSUER: Final = "https://localhost:8443/realms/dive-v3-broker-usa"


@pytest.fixture(scope="module")
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(os.environ.get("DIVE_TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis for tests is unreachable: {exc}")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A per-test instance prefix like `dive:<c>:`, and every key under it removed afterwards."""
    prefix = f"dive:t{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


def _data(**tenants: dict[str, object]) -> dict[str, object]:
    registry = RegistryData(tenant_id="USA", trusted_issuers={ISSUER: "USA"}, tenants=tenants)
    return build_data(PolicyBundle.load().static_data, registry)


@pytest.fixture(scope="module")
def pdp() -> RegopyEngine:
    return RegopyEngine(data=_data())


def _input(classification: str = "SECRET") -> dict[str, Any]:
    return {
        "subject": {
            "authenticated": True,
            "uniqueID": "testuser-usa-5",
            "clearance": "TOP SECRET",
            "countryOfAffiliation": "USA",
            "acpCOI": ["NATO"],
            "organizationType": "GOV",
            "issuer": ISSUER,
        },
        "action": {"operation": "read"},
        "resource": {
            "resourceId": "doc-USA-seed-00002",
            "classification": classification,
            "releasabilityTo": ["USA"],
            "COI": [],
            "coiOperator": "ALL",
            "caveats": [],
            "releasableToIndustry": False,
            "encrypted": True,
        },
        "context": {"currentTime": "2026-03-02T08:15:00Z", "acr": "2", "amr": ["pwd", "otp"], "tenant": "USA"},
    }


def test_a_stored_decision_comes_back_equal_under_the_instance_prefix(client, prefix, pdp):
    cache = RedisDecisionCache(client, prefix=prefix)
    decision = pdp.decide(_input())
    key = decision_cache_key(pdp.revision(), _input())
    cache.put(key, decision, 30)
    assert cache.key_for(key) == f"{prefix}decision:{key}"
    assert 0 < client.ttl(f"{prefix}decision:{key}") <= 30
    again = cache.get(key)
    assert again is not None and again is not decision
    assert (again.allow, again.reason, again.raw) == (decision.allow, decision.reason, decision.raw)
    assert cache.get("0" * 64) is None


def test_a_value_that_is_not_a_decision_reads_as_a_miss(client, prefix):
    cache = RedisDecisionCache(client, prefix=prefix)
    client.set(f"{prefix}decision:broken", b'{"allow": true}')
    client.set(f"{prefix}decision:garbage", b"\xff\x00")
    assert cache.get("broken") is None and cache.get("garbage") is None


def test_flush_deletes_every_key_of_its_namespace_and_nothing_else(client, prefix, pdp):
    cache = RedisDecisionCache(client, prefix=prefix)
    decision = pdp.decide(_input())
    with client.pipeline(transaction=False) as pipeline:
        for index in range(1200):  # more than one SCAN/DEL batch
            pipeline.set(f"{prefix}decision:{index:064x}", b"{}", ex=60)
        pipeline.set(f"{prefix}search:kept", b"{}", ex=60)
        pipeline.set(f"{prefix}kas-decision:kept", b"{}", ex=60)
        pipeline.execute()
    cache.put("last", decision, 60)
    cache.flush()
    assert list(client.scan_iter(match=f"{prefix}decision:*", count=1000)) == []
    assert client.exists(f"{prefix}search:kept", f"{prefix}kas-decision:kept") == 2


def test_the_kas_namespace_never_shares_entries_with_the_api(client, prefix, pdp):
    api = RedisDecisionCache(client, prefix=prefix)
    kas = RedisDecisionCache(client, prefix=prefix, namespace="kas-decision")
    api.put("k", pdp.decide(_input()), 30)
    assert kas.get("k") is None
    kas.flush()
    assert api.get("k") is not None


def test_a_prefix_with_glob_characters_flushes_only_itself(client, prefix, pdp):
    odd = RedisDecisionCache(client, prefix=f"{prefix}[x]*:")
    plain = RedisDecisionCache(client, prefix=f"{prefix}x:")
    odd.put("k", pdp.decide(_input()), 30)
    plain.put("k", pdp.decide(_input()), 30)
    odd.flush()
    assert (odd.get("k"), plain.get("k") is not None) == (None, True)


def test_cached_engine_over_redis_flushes_on_a_new_revision(client, prefix):
    engine = RegopyEngine(data=_data())
    cache = RedisDecisionCache(client, prefix=prefix)
    cached = CachedEngine(engine, cache)
    assert cached.decide(_input("TOP_SECRET")).allow
    old_key = decision_cache_key(engine.revision(), _input("TOP_SECRET"))
    assert cache.get(old_key) is not None
    engine.reload(data=_data(USA={"aal_top_secret": 3}))
    assert cached.decide(_input("TOP_SECRET")).failed == ("aal_sufficient",)
    assert cache.get(old_key) is None
    assert len(list(client.scan_iter(match=f"{prefix}decision:*"))) == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_redis_raises_cache_unavailable_and_the_engine_still_decides(pdp):
    down = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    cache = RedisDecisionCache(down, prefix="dive:tdown:")
    with pytest.raises(DecisionCacheUnavailableError) as error:
        cache.get("k")
    assert error.value.code == "decision_cache_unavailable"
    decision = CachedEngine(pdp, cache).decide(_input())  # degraded: decided, not cached, and logged
    assert decision.allow
    down.close()
