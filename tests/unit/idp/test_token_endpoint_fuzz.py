"""Hypothesis fuzzing of the token endpoint's form parsing (§A.12): never a 5xx, always an OAuth error shape."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idp_support import TOKEN_URL

FIELDS = ["grant_type", "client_id", "client_secret", "code", "redirect_uri", "code_verifier", "refresh_token",
          "username", "password", "totp", "scope"]  # fmt: skip
GRANTS = st.sampled_from(["authorization_code", "refresh_token", "password", "client_credentials", "", "x"])
VALUES = st.one_of(st.text(max_size=60), st.sampled_from(["dive-v3-broker-usa", "testuser-usa-1", "a.b.c"]))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8), grant=GRANTS,
       basic=st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
                       st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())))  # fmt: skip
def test_token_endpoint_never_answers_5xx(idp, form, grant, basic):
    form = {**form, "grant_type": grant}
    headers = {"Authorization": f"Basic {basic}"} if basic is not None else {}
    response = idp.client.post(TOKEN_URL, data=form, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json()
