"""The revocation list is mirrored to Redis (§A.3) under `dive:revoked:<sha256(issuer)>:<kind>:<value>`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from idp_support import CLIENT_ID, CLIENT_SECRET, REALM, Idp, start_idp

from dive.idp.revocation_mirror import revocation_key

REDIS_URL = os.environ.get("DIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.redis


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    yield client
    client.close()


@pytest.fixture
def mirrored_idp(tmp_path: Path, redis_client: redis.Redis) -> Iterator[Idp]:
    yield from start_idp(tmp_path, {"DIVE_REDIS_URL": REDIS_URL})


def test_logout_publishes_the_session_id_with_a_ttl(mirrored_idp, redis_client):
    tokens = mirrored_idp.password_grant("testuser-usa-1").json()
    response = mirrored_idp.client.post(f"/realms/{REALM}/protocol/openid-connect/logout",
                                        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                              "refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert response.status_code == 204
    key = revocation_key(f"https://localhost:8443/realms/{REALM}", "sid", tokens["session_state"])
    try:
        assert redis_client.get(key) == b"1"
        assert 28800 < redis_client.ttl(key) <= 28800 + 900
    finally:
        redis_client.delete(key)
