"""The idp's repositories on PostgreSQL (one schema for both backends, DESIGN "Data stores")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from idp_support import CLIENT_ID, CLIENT_SECRET, REALM, TOKEN_URL, Idp, browser_login, pkce_pair, redeem, start_idp

from dbfixtures import postgres_database
from dive.idp.repository import UserQuery

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_idp(tmp_path: Path) -> Iterator[Idp]:
    with postgres_database() as url:
        yield from start_idp(tmp_path, {"DIVE_DATABASE_URL": url})


def test_code_flow_refresh_reuse_and_admin_search_work_on_postgresql(pg_idp):
    verifier, challenge = pkce_pair()
    tokens = redeem(pg_idp, browser_login(pg_idp, "testuser-usa-3", challenge)["code"], verifier).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert pg_idp.client.post(TOKEN_URL, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET)).status_code == 200
    reuse = pg_idp.client.post(TOKEN_URL, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET))
    assert reuse.json()["error_description"] == "Maximum allowed refresh token reuse exceeded"
    realm = pg_idp.core.directory.realm(REALM)
    found = pg_idp.core.directory.search_users(realm.id, UserQuery(search="USA-3"), first=0, limit=10)
    assert [u.username for u in found] == ["testuser-usa-3"]
    enabled = pg_idp.core.directory.count_users(realm.id, UserQuery(enabled=True))
    assert enabled == 3
