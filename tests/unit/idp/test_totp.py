from __future__ import annotations

import pyotp

from dive.idp.totp import generate_totp_secret, verify_totp

NOW = 1_764_320_000.0


def test_current_code_is_accepted_and_returns_its_step():
    secret = generate_totp_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert verify_totp(secret, code, now=NOW, last_used_step=None) == int(NOW) // 30


def test_code_of_previous_step_is_inside_the_window_but_two_steps_back_is_not():
    secret = generate_totp_secret()
    assert verify_totp(secret, pyotp.TOTP(secret).at(NOW - 30), now=NOW, last_used_step=None) is not None
    assert verify_totp(secret, pyotp.TOTP(secret).at(NOW - 60), now=NOW, last_used_step=None) is None


def test_replayed_code_is_refused():
    secret = generate_totp_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = verify_totp(secret, code, now=NOW, last_used_step=None)
    assert verify_totp(secret, code, now=NOW + 5, last_used_step=step) is None


def test_malformed_code_is_refused():
    secret = generate_totp_secret()
    assert verify_totp(secret, "12a456", now=NOW, last_used_step=None) is None
    assert verify_totp(secret, "1234567", now=NOW, last_used_step=None) is None
