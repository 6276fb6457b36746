"""§A.10 token expiry: python-keycloak keeps working after its admin access token expired (it refreshes, or
logs in again when refresh answers 400). The wait is real time: a separate process cannot be time-travelled."""

from __future__ import annotations

import time

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]


def test_admin_calls_keep_working_across_access_token_expiry(short_admin_token_idp):
    idp = short_admin_token_idp
    connection = KeycloakOpenIDConnection(server_url=idp.url + "/", username="admin", password=idp.admin_password,
                                          realm_name="master", client_id="admin-cli", verify=idp.ca_bundle)  # fmt: skip
    admin = KeycloakAdmin(connection=connection)
    assert [r["realm"] for r in admin.get_realms()] == ["master"]
    first = connection.token["access_token"]
    time.sleep(3)
    assert [r["realm"] for r in admin.get_realms()] == ["master"]
    assert connection.token["access_token"] != first
