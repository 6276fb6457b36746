"""The §9.2 generation table of `dive.secrets.generation`: values, validation, delivery to services (§9.4)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from dive.secrets import LocalKeystore, SecretInsecureError
from dive.secrets.generation import (
    SHARED_TEST_USER_PASSWORD,
    SecretSpec,
    ensure_secrets,
    generate,
    instance_secrets,
    password,
    secret_variable,
    secrets_for_service,
    validate_secret,
)


def test_password_has_every_character_class_and_nothing_unsafe_for_configs_or_urls():
    for _ in range(50):
        value = password(24)
        assert len(value) == 24
        assert re.search("[a-z]", value) and re.search("[A-Z]", value) and re.search("[0-9]", value)
        assert re.search(r"[-_.~!*+]", value)
        assert not re.search(r"""['"\\%$#;,\s]""", value)


@pytest.mark.parametrize("value", ["changeme-changeme-changeme-12", "x" * 40, "tiny-Xq9", "__REPLACE_ME_PLEASE_NOW__"])
def test_placeholder_weak_or_repeated_values_are_rejected_naming_the_secret_not_the_value(value):
    with pytest.raises(SecretInsecureError, match="usa/app-client-secret") as err:
        validate_secret("usa/app-client-secret", value, "token")
    assert err.value.code == "secret_insecure"
    assert value not in err.value.message


def test_generated_totp_secret_is_base32_of_twenty_bytes():
    value = generate(SecretSpec("fra/totp/testuser-fra-3", "totp", 20, ()))
    assert re.fullmatch(r"[A-Z2-7]{32}", value)


def test_ensure_twice_keeps_identical_values_in_private_files(dive_home: Path):
    keystore = LocalKeystore(dive_home)
    specs = instance_secrets("fra", totp_users=["testuser-fra-3"])

    created = ensure_secrets(keystore, specs)
    first = {spec.path: keystore.get(spec.path) for spec in specs}
    again = ensure_secrets(keystore, specs)

    assert sorted(created) == sorted(spec.path for spec in specs) and again == []
    assert {spec.path: keystore.get(spec.path) for spec in specs} == first
    assert SHARED_TEST_USER_PASSWORD in first and "fra/admin-user-password" in first
    assert stat.S_IMODE((dive_home / "secrets" / "fra" / "app-client-secret").stat().st_mode) == 0o600


def test_each_service_receives_exactly_its_secrets_and_a_spoke_api_no_admin_password(dive_home: Path):
    keystore = LocalKeystore(dive_home)
    specs = instance_secrets("fra")
    ensure_secrets(keystore, specs)

    web = secrets_for_service(keystore, specs, "web", hub=False)
    api = secrets_for_service(keystore, specs, "api", hub=False)
    hub_api = secrets_for_service(LocalKeystore(dive_home), instance_secrets("fra"), "api", hub=True)

    assert set(web) == {
        "DIVE_SECRET_FRA_DATA_PROTECTION_KEY",
        "DIVE_SECRET_FRA_APP_CLIENT_SECRET",
        "DIVE_SECRET_FRA_WEB_SESSION_SECRET",
    }
    assert "DIVE_SECRET_FRA_IDP_ADMIN_PASSWORD" not in api and "DIVE_SECRET_FRA_IDP_ADMIN_PASSWORD" in hub_api
    assert secrets_for_service(keystore, specs, "pdp", hub=False) == {}


def test_secret_variable_follows_the_env_provider_naming():
    assert secret_variable("fra/data-protection-key") == "DIVE_SECRET_FRA_DATA_PROTECTION_KEY"
    assert secret_variable("_shared/test-user-password") == "DIVE_SECRET__SHARED_TEST_USER_PASSWORD"
