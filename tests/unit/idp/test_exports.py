"""The public surface of `dive.idp` is its `__all__` (STYLE §1)."""

from __future__ import annotations

import dive.idp


def test_every_exported_name_exists_and_errors_carry_codes():
    assert all(hasattr(dive.idp, name) for name in dive.idp.__all__)
    error = dive.idp.OAuthError("invalid_grant", "Code not valid")
    assert isinstance(error, dive.idp.IdpError) and error.code == "invalid_grant"
    assert error.body() == {"error": "invalid_grant", "error_description": "Code not valid"}
