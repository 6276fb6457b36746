from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from dive.idp.errors import IdpError
from dive.idp.keys import generate_signing_key, jwks_document, keys_metadata, plan_rotation
from dive.idp.model import Client, SsoSession, User
from dive.idp.tokens import TokenContext, access_token_claims, at_hash, decode_signed, id_token_claims, sign_rs256

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def key():
    return generate_signing_key(T0)


def _context(nonce=None):
    user = User(
        id="u-1",
        realm_id="r",
        username="testuser-usa-3",
        attributes={"clearance": ["CONFIDENTIAL"], "countryOfAffiliation": ["USA"], "acpCOI": ["NATO"]},
    )
    client = Client(
        id="c",
        realm_id="r",
        client_id="dive-v3-broker-usa",
        secret="s",
        representation={"attributes": {"dive.audiences": "dive-v3-api,dive-v3-kas"}},
    )
    session = SsoSession(
        id="sid-1",
        realm_id="r",
        user_id="u-1",
        started_at=T0,
        last_seen_at=T0,
        auth_time=1000,
        acr="2",
        amr=("pwd", "otp"),
    )
    return TokenContext(
        issuer="https://localhost:8443/realms/dive-v3-broker-usa",
        client=client,
        user=user,
        roles=["dive-user"],
        session=session,
        scope="openid profile email",
        now=1000,
        nonce=nonce,
    )


def test_kid_is_the_rfc7638_thumbprint(key):
    jwk = key.public_jwk()
    assert jwk["kid"] == RSAKey.import_key({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}).thumbprint()
    assert set(jwk) == {"kid", "kty", "alg", "use", "n", "e"}


def test_access_token_carries_the_a6_claims_and_verifies_against_the_jwks(key):
    claims = access_token_claims(_context(), lifespan=900, jti="j1")
    token = sign_rs256(claims, key)
    keyset = KeySet.import_key_set(jwks_document([key]))
    decoded = jwt.decode(token, keyset, algorithms=["RS256"]).claims
    assert decoded["aud"] == ["dive-v3-api", "dive-v3-kas"]
    assert decoded["typ"] == "Bearer" and decoded["acr"] == "2" and decoded["amr"] == ["pwd", "otp"]
    assert decoded["clearance"] == "CONFIDENTIAL" and decoded["acpCOI"] == ["NATO"]
    assert "organizationType" not in decoded  # omitted when unset, never defaulted
    assert decoded["realm_access"] == {"roles": ["dive-user"]}
    assert decoded["exp"] - decoded["iat"] == 900


def test_id_token_has_nonce_at_hash_and_client_audience(key):
    access = sign_rs256(access_token_claims(_context(), lifespan=900, jti="j1"), key)
    claims = id_token_claims(_context(nonce="n-123"), lifespan=900, access_token=access)
    assert claims["aud"] == "dive-v3-broker-usa" and claims["typ"] == "ID"
    assert claims["nonce"] == "n-123" and claims["at_hash"] == at_hash(access)


def test_token_signed_by_an_unknown_key_is_refused(key):
    other = generate_signing_key(T0)
    token = sign_rs256({"a": 1}, other)
    with pytest.raises(IdpError) as err:
        decode_signed(token, [key])
    assert err.value.code == "token_invalid"


def test_rotation_demotes_the_active_key_and_retention_removes_it(key):
    upserts, deleted = plan_rotation([key], now=T0 + timedelta(days=1), rotation_days=90, retention_hours=24)
    assert upserts == [] and deleted == []
    upserts, _ = plan_rotation([key], now=T0 + timedelta(days=91), rotation_days=90, retention_hours=24)
    statuses = sorted(k.status for k in upserts)
    assert statuses == ["ACTIVE", "PASSIVE"]
    passive = next(k for k in upserts if k.status == "PASSIVE")
    new_active = next(k for k in upserts if k.status == "ACTIVE")
    assert len(jwks_document([new_active, passive])["keys"]) == 2
    assert keys_metadata([new_active, passive])["active"] == {"RS256": new_active.kid}
    _, deleted = plan_rotation([new_active, passive], now=T0 + timedelta(days=92), rotation_days=90, retention_hours=24)
    assert deleted == [passive.kid]
