"""idp settings (§0.2, Amendment 2, CONSISTENCY #27) and the metrics of §A.11."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from idp_support import REALM, Idp, start_idp

from dive.idp.admin.identity_providers import idp_from_rep
from dive.idp.administration import create_client
from dive.idp.errors import IdpError
from dive.idp.settings import load_idp_settings, secret_variable
from dive.service.settings import load_service_settings

KEY = "A" * 43


def _settings(tmp_path: Path, **env: str):
    base = {"DIVE_HOME": str(tmp_path), "DIVE_PORT": "8443", "DIVE_SECRET_USA_DATA_PROTECTION_KEY": KEY}
    return load_idp_settings(load_service_settings("idp", "usa", {**base, **env}))


def test_secret_variable_follows_the_env_provider_naming():
    assert secret_variable("usa/data-protection-key") == "DIVE_SECRET_USA_DATA_PROTECTION_KEY"


def test_missing_data_protection_key_refuses_to_start(tmp_path):
    with pytest.raises(IdpError) as err:
        load_idp_settings(load_service_settings("idp", "usa", {"DIVE_HOME": str(tmp_path), "DIVE_PORT": "8443"}))
    assert err.value.code == "settings_invalid" and "DIVE_SECRET_USA_DATA_PROTECTION_KEY" in err.value.message


def test_argon2_defaults_are_the_amendment_6_owasp_parameters(tmp_path):
    params = _settings(tmp_path).argon2
    assert (params.time_cost, params.memory_kib, params.parallelism) == (5, 7168, 1)


def test_propagation_delay_is_refused_in_production(tmp_path):
    with pytest.raises(IdpError, match="refused in production"):
        _settings(tmp_path, DIVE_ENV="production", DIVE_DATABASE_URL="postgresql://x@h/db",
                  DIVE_REDIS_URL="redis://h", DIVE_TEST_IDP_PROPAGATION_DELAY_S="5")  # fmt: skip


def test_propagation_delay_needs_the_test_hooks_switch(tmp_path):
    assert _settings(tmp_path, DIVE_TEST_IDP_PROPAGATION_DELAY_S="5").propagation_delay_s == 0.0
    hooked = _settings(tmp_path, DIVE_TEST_IDP_PROPAGATION_DELAY_S="5", DIVE_TEST_HOOKS="1")
    assert hooked.propagation_delay_s == 5.0


@pytest.fixture
def delayed_idp(tmp_path: Path) -> Iterator[Idp]:
    yield from start_idp(tmp_path, {"DIVE_TEST_IDP_PROPAGATION_DELAY_S": "30", "DIVE_TEST_HOOKS": "1"})


def test_new_identity_provider_and_client_become_visible_only_after_the_delay(delayed_idp):
    idp = delayed_idp
    realm = idp.core.directory.realm(REALM)
    base = "https://localhost:8453/realms/dive-v3-broker-fra"
    config = {"authorizationUrl": f"{base}/a", "tokenUrl": f"{base}/t", "jwksUrl": f"{base}/c", "issuer": base,
              "clientId": REALM, "validateSignature": "true", "useJwksUrl": "true"}  # fmt: skip
    rep = {"alias": "fra-idp", "displayName": "France", "config": config}
    idp.core.directory.create_idp(realm.id, idp_from_rep(rep, base=None), visible_at=idp.core.change_visible_from())
    create_client(idp.core, realm, {"clientId": "late-client", "secret": "s" * 40,
                                    "serviceAccountsEnabled": True})  # fmt: skip
    chooser = f"/realms/{REALM}/dive/idps"
    token = {"grant_type": "client_credentials", "client_id": "late-client", "client_secret": "s" * 40}
    url = f"/realms/{REALM}/protocol/openid-connect/token"
    assert idp.client.get(chooser).json() == []
    assert idp.client.post(url, data=token).status_code == 401
    idp.clock.advance(31)
    assert [i["alias"] for i in idp.client.get(chooser).json()] == ["fra-idp"]
    assert idp.client.post(url, data=token).status_code == 200


def test_metrics_expose_the_idp_series(idp):
    idp.password_grant("testuser-usa-1")
    text = idp.client.get("/metrics").text
    assert 'dive_idp_tokens_issued_total{instance_code="USA",kind="access",realm="dive-v3-broker-usa"} 1.0' in text
    assert (
        'dive_idp_events_total{error="",event="login",idp="local",instance_code="USA",realm="dive-v3-broker-usa"} 1.0'
        in text
    )
    assert 'dive_idp_sessions_active{instance_code="USA"} 1.0' in text
    assert "dive_idp_password_hash_seconds_count" in text
