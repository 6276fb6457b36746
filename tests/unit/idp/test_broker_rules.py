"""§A.8 step 4 (upstream ID token checks) and step 6 (mappers, sync modes, username template)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from dive.idp.broker.flow import upstream_acr, upstream_amr
from dive.idp.broker.mappers import apply_mappers, render_username
from dive.idp.broker.upstream_token import verify_upstream_id_token
from dive.idp.errors import BrokerError

ISSUER = "https://localhost:8453/realms/dive-v3-broker-fra"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def _token(key=KEY, alg="RS256", **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "dive-v3-broker-usa", "sub": "u1", "exp": now + 300, "iat": now, "nonce": "n1",
              **overrides}  # fmt: skip
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def _verify(token, find_key=lambda kid: KEY if kid == "k1" else None):
    return verify_upstream_id_token(token, issuer=ISSUER, client_id="dive-v3-broker-usa", nonce="n1",
                                    find_key=find_key, now=int(time.time()))  # fmt: skip


def test_valid_upstream_token_passes():
    assert _verify(_token())["sub"] == "u1"


# Times are taken when the test runs, not at collection: a long suite would otherwise make them stale.
@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (lambda: {"iss": "https://evil.example/realms/x"}, "upstream_issuer_mismatch"),
        (lambda: {"aud": "someone-else"}, "upstream_audience_mismatch"),
        (lambda: {"aud": ["dive-v3-broker-usa", "other"], "azp": "other"}, "upstream_audience_mismatch"),
        (lambda: {"nonce": "replayed"}, "upstream_nonce_mismatch"),
        (lambda: {"exp": int(time.time()) - 120}, "upstream_token_expired"),
        (lambda: {"iat": int(time.time()) + 600}, "upstream_token_invalid"),
    ],
)
def test_upstream_token_claim_violations_are_refused(overrides, code):
    with pytest.raises(BrokerError) as err:
        _verify(_token(**overrides()))
    assert err.value.code == code


def test_expiry_within_the_sixty_second_leeway_is_accepted():
    assert _verify(_token(exp=int(time.time()) - 30))


def test_unknown_kid_is_refused_and_a_foreign_key_signature_fails():
    other = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    with pytest.raises(BrokerError) as err:
        _verify(_token(key=other))
    assert err.value.code == "upstream_key_unknown"
    with pytest.raises(BrokerError) as err:
        _verify(_token(key=other), find_key=lambda kid: KEY)
    assert err.value.code == "upstream_signature_invalid"


def test_hs256_token_is_refused_before_any_key_lookup():
    from joserfc.jwk import OctKey

    token = jwt.encode({"alg": "HS256", "kid": "k1"}, {"sub": "x"}, OctKey.import_key(b"s" * 32))
    with pytest.raises(BrokerError, match="only RS256"):
        _verify(token)


IMPORTER = "oidc-user-attribute-idp-mapper"


def _mapper(claim, attribute, sync="INHERIT"):
    return {
        "identityProviderMapper": IMPORTER,
        "config": {"claim": claim, "user.attribute": attribute, "syncMode": sync},
    }


def test_force_sync_overwrites_and_removes_absent_claims():
    current = {"clearance": ["SECRET"], "acpCOI": ["NATO"]}
    mappers = [_mapper("clearance", "clearance"), _mapper("acpCOI", "acpCOI")]
    result = apply_mappers(current, {"clearance": "TRES SECRET"}, mappers, idp_sync_mode="FORCE", first_login=False)
    assert result == {"clearance": ["TRES SECRET"]}


def test_import_sync_applies_only_at_first_login():
    mappers = [_mapper("clearance", "clearance", sync="IMPORT")]
    later = apply_mappers({"clearance": ["SECRET"]}, {"clearance": "X"}, mappers, idp_sync_mode="FORCE",
                          first_login=False)  # fmt: skip
    assert later == {"clearance": ["SECRET"]}
    first = apply_mappers({}, {"clearance": "X"}, mappers, idp_sync_mode="FORCE", first_login=True)
    assert first == {"clearance": ["X"]}


def test_array_claims_become_multi_valued_attributes_and_hardcoded_values_apply():
    hardcoded = {"attribute": "organizationType", "attribute.value": "GOV", "syncMode": "FORCE"}
    mappers = [
        _mapper("acpCOI", "acpCOI"),
        {"identityProviderMapper": "hardcoded-attribute-idp-mapper", "config": hardcoded},
    ]
    result = apply_mappers({}, {"acpCOI": ["NATO", "FVEY"]}, mappers, idp_sync_mode="FORCE", first_login=True)
    assert result == {"acpCOI": ["NATO", "FVEY"], "organizationType": ["GOV"]}


def test_username_template_is_rendered_lower_case():
    assert render_username("${ALIAS}.${CLAIM.preferred_username}", alias="fra-idp",
                           claims={"preferred_username": "TestUser-FRA-1"}) == "fra-idp.testuser-fra-1"  # fmt: skip


def test_upstream_acr_and_amr_are_sanitised():
    assert upstream_acr("2") == "2" and upstream_acr("9") == "0" and upstream_acr(2) == "0"
    assert upstream_amr(["pwd", "otp"]) == ("pwd", "otp")
    assert upstream_amr(["a"] * 6) == () and upstream_amr("pwd") == () and upstream_amr([{"x": 1}]) == ()
