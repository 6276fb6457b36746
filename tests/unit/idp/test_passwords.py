from __future__ import annotations

import pytest

from dive.idp.passwords import Argon2Params, PasswordHasher, check_password_policy

FAST = Argon2Params(time_cost=1, memory_kib=1024)


def test_default_hash_is_argon2id_with_owasp_parameters():
    hasher = PasswordHasher(Argon2Params())
    stored = hasher.hash("Correct-horse-9")
    assert stored.startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    assert hasher.verify(stored, "Correct-horse-9")
    assert not hasher.verify(stored, "Correct-horse-8")


def test_hash_with_older_parameters_needs_rehash():
    old = PasswordHasher(FAST).hash("Correct-horse-9")
    assert PasswordHasher(Argon2Params()).needs_rehash(old)
    assert not PasswordHasher(FAST).needs_rehash(old)


def test_verify_against_a_garbage_hash_is_false_not_an_exception():
    assert not PasswordHasher(FAST).verify("not-a-hash", "whatever")


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("Short-1a", "invalidPasswordMinLengthMessage"),
        ("lowercase-only-1", "invalidPasswordMinUpperCaseCharsMessage"),
        ("UPPERCASE-ONLY-1", "invalidPasswordMinLowerCaseCharsMessage"),
        ("No-Digits-Here-x", "invalidPasswordMinDigitsMessage"),
        ("NoSpecialChars12", "invalidPasswordMinSpecialCharsMessage"),
        ("A" * 100 + "a1-" + "b" * 30, "invalidPasswordMaxLengthMessage"),
        ("Testuser-Usa-1", "invalidPasswordNotUsernameMessage"),
    ],
)
def test_policy_violation_names_keycloak_message_key(password, key):
    violation = check_password_policy(password, username="testuser-usa-1", email=None)
    assert violation is not None and violation.message_key == key
    assert violation.description.startswith("Invalid password: ")


def test_policy_minimum_length_message_matches_keycloak_text():
    violation = check_password_policy("Ab1-", username="u", email=None)
    assert violation is not None
    assert violation.as_admin_error().body == {
        "error": "invalidPasswordMinLengthMessage",
        "error_description": "Invalid password: minimum length 12.",
    }


def test_policy_refuses_a_recent_password_and_accepts_a_new_one():
    hasher = PasswordHasher(FAST)
    history = [hasher.hash("Old-password-123")]
    reused = check_password_policy("Old-password-123", username="u", email=None, previous_hashes=history, hasher=hasher)
    assert reused is not None and reused.message_key == "invalidPasswordHistoryMessage"
    fresh = check_password_policy("New-password-123", username="u", email=None, previous_hashes=history, hasher=hasher)
    assert fresh is None
