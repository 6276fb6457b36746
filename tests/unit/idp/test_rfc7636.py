"""RFC 7636 (PKCE): S256 only, verifier syntax of §4.1, comparison of §4.6."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive.idp.errors import OAuthError
from dive.idp.oauth.rfc7636 import check_challenge_request, verify_s256

VERIFIER = "a" * 43 + "-._~"


def test_matching_verifier_passes():
    verify_s256(VERIFIER, create_s256_code_challenge(VERIFIER))


def test_wrong_verifier_is_invalid_grant():
    with pytest.raises(OAuthError) as err:
        verify_s256("b" * 50, create_s256_code_challenge(VERIFIER))
    assert err.value.code == "invalid_grant"


def test_short_verifier_is_refused_by_syntax():
    with pytest.raises(OAuthError, match="Invalid code verifier"):
        verify_s256("a" * 42, create_s256_code_challenge("a" * 42))


def test_plain_method_is_refused():
    with pytest.raises(OAuthError) as err:
        check_challenge_request(VERIFIER[:43], "plain", required=False)
    assert err.value.code == "invalid_request"


def test_missing_challenge_for_a_pkce_client_is_refused():
    with pytest.raises(OAuthError):
        check_challenge_request(None, None, required=True)
    assert check_challenge_request(None, None, required=False) is None
