"""Redis names of a deployment (orchestration §1.1, §9.4; CONSISTENCY #25) and the key deletion nuke uses."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import redis

from dive.orchestration.deploy.redis_keys import (
    delete_instance_keys,
    has_instance_keys,
    instance_prefix,
    ping_redis,
    redis_server_url,
    safe_redis_url,
)
from dive.orchestration.errors import PhaseError

REDIS_URL = os.environ.get("DIVE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def test_instance_prefix_is_dive_code_colon_in_lower_case():
    assert instance_prefix("FRA") == "dive:fra:"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:r3dis-pw@cache:6379/0", "redis://***@cache:6379/0"),
        ("rediss://user:pw@cache:6380/1", "rediss://***@cache:6380/1"),
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/15"),
    ],
)
def test_safe_redis_url_masks_the_credentials(url: str, expected: str):
    assert safe_redis_url(url) == expected


def test_redis_server_url_is_none_for_the_embedded_caches():
    assert redis_server_url({}) is None
    assert redis_server_url({"DIVE_REDIS_URL": " "}) is None
    assert redis_server_url({"DIVE_REDIS_URL": REDIS_URL}) == REDIS_URL


def test_ping_of_a_stopped_redis_fails_with_a_code_and_no_password():
    with pytest.raises(PhaseError, match=r"redis://\*\*\*@127.0.0.1:1/0 does not answer") as error:
        ping_redis("redis://:top-secret@127.0.0.1:1/0")

    assert error.value.error_code == "redis_unavailable" and "top-secret" not in error.value.message


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis for tests is unreachable: {exc}")
    try:
        yield client
    finally:
        client.close()


@pytest.mark.redis
def test_delete_instance_keys_removes_exactly_that_prefix(client: redis.Redis):
    code, neighbour = f"t{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}"
    client.mset({f"dive:{code}:decision:{n}": "1" for n in range(1500)} | {f"dive:{neighbour}:decision:1": "1"})
    try:
        assert "PING answered" in ping_redis(REDIS_URL)
        assert delete_instance_keys(REDIS_URL, code) == 1500
        assert not has_instance_keys(REDIS_URL, code) and has_instance_keys(REDIS_URL, neighbour)
    finally:
        client.delete(f"dive:{neighbour}:decision:1", *client.keys(f"dive:{code}:*"))
