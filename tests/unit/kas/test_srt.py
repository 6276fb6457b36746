"""Signed request tokens (spec/ztdf-kas.md §7.4 step 6)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from dive.kas.errors import AuthenticationError, RequestInvalidError
from dive.kas.srt import check_srt_time, read_srt, verify_srt_signature


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _srt(key: RSAKey, claims: dict[str, object], alg: str = "RS256") -> str:
    return jws.serialize_compact({"alg": alg}, json.dumps(claims), key)


def test_a_fresh_srt_signed_with_the_client_key_passes(key):
    srt = read_srt(_srt(key, {"requestBody": "{}", "iat": int(time.time())}))
    check_srt_time(srt, now=time.time(), max_age_s=300)
    verify_srt_signature(srt, key)
    assert srt.request_body == "{}"


@pytest.mark.parametrize(
    "token",
    [
        5,
        "not-a-jws",
        "a.b.c",
        base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=") + ".e30.",
    ],
)
def test_malformed_srts_are_400_srt_invalid(token):
    with pytest.raises(RequestInvalidError) as err:
        read_srt(token)
    assert err.value.code == "srt_invalid" and err.value.status == 400


def test_an_srt_without_iat_or_request_body_is_400(key):
    for claims in ({"requestBody": "{}"}, {"iat": int(time.time())}):
        with pytest.raises(RequestInvalidError):
            read_srt(_srt(key, claims))


@pytest.mark.parametrize(("iat", "exp"), [(-400, None), (120, None), (0, -120)])
def test_an_srt_outside_its_lifetime_is_401(key, iat, exp):
    now = time.time()
    claims: dict[str, object] = {"requestBody": "{}", "iat": int(now + iat)}
    if exp is not None:
        claims["exp"] = int(now + exp)
    with pytest.raises(AuthenticationError) as err:
        check_srt_time(read_srt(_srt(key, claims)), now=now, max_age_s=300)
    assert err.value.code == "srt_invalid" and err.value.status == 401


def test_an_srt_signed_by_another_key_fails_verification(key):
    other = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    srt = read_srt(_srt(other, {"requestBody": "{}", "iat": int(time.time())}))
    with pytest.raises(AuthenticationError):
        verify_srt_signature(srt, key)
