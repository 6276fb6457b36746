"""load_service_settings: defaults from the catalog and DIVE_HOME, overrides, and refusals with codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dive.service import SettingsError, load_service_settings


def test_defaults_follow_the_catalog_and_the_home_layout(dive_home: Path) -> None:
    settings = load_service_settings("pdp", "FRA", {"DIVE_HOME": str(dive_home)})
    assert (settings.service, settings.instance, settings.instance_code) == ("pdp", "fra", "FRA")
    assert (settings.env, settings.bind, settings.public_host, settings.port) == (
        "development",
        "127.0.0.1",
        "localhost",
        8191,
    )
    assert settings.ca_bundle == dive_home / "pki" / "bundle.pem"
    assert settings.tls_cert == dive_home / "instances" / "fra" / "certs" / "pdp.crt"
    assert settings.tls_key == dive_home / "instances" / "fra" / "certs" / "pdp.key"
    assert settings.database_url.startswith("sqlite")
    assert settings.database_url.endswith(f"{dive_home}/instances/fra/data/instance.db")
    assert (settings.redis_url, settings.redis_prefix, settings.log_level) == (None, "dive:fra:", "INFO")


def test_port_shift_moves_the_catalog_port(dive_home: Path) -> None:
    environ = {"DIVE_HOME": str(dive_home), "DIVE_PORT_SHIFT": "10000"}
    assert load_service_settings("kas", "hub", environ).port == 19000


def test_explicit_port_beats_dive_port_which_beats_the_catalog(dive_home: Path) -> None:
    environ = {"DIVE_HOME": str(dive_home), "DIVE_PORT": "12345"}
    assert load_service_settings("api", "usa", environ).port == 12345
    assert load_service_settings("api", "usa", environ, port=23456).port == 23456


def test_hub_means_usa_and_the_environment_overrides_apply(dive_home: Path) -> None:
    environ = {
        "DIVE_HOME": str(dive_home),
        "DIVE_ENV": "local",
        "DIVE_PUBLIC_HOST": "hub.example",
        "DIVE_CA_BUNDLE": "/etc/dive/bundle.pem",
        "DIVE_REDIS_URL": "redis://127.0.0.1:6379/15",
        "DIVE_LOG_LEVEL": "debug",
        "OTHER": "not kept",
    }
    settings = load_service_settings("idp", "hub", environ)
    assert (settings.instance, settings.env, settings.public_host) == ("usa", "development", "hub.example")
    assert settings.ca_bundle == Path("/etc/dive/bundle.pem")
    assert (settings.redis_url, settings.log_level) == ("redis://127.0.0.1:6379/15", "DEBUG")
    assert settings.public_url == "https://hub.example:8443"
    assert "OTHER" not in settings.environ and settings.environ["DIVE_ENV"] == "local"


def test_repr_hides_urls_that_may_carry_passwords(dive_home: Path) -> None:
    environ = {
        "DIVE_HOME": str(dive_home),
        "DIVE_DATABASE_URL": "postgresql+psycopg://dive_fra:s3cret-pw@db/dive_fra",
        "DIVE_REDIS_URL": "redis://:r3dis-pw@cache:6379/0",
        "DIVE_SECRET_FRA_DATA_PROTECTION_KEY": "k3y",
    }
    text = repr(load_service_settings("api", "fra", environ))
    assert "s3cret-pw" not in text and "r3dis-pw" not in text and "k3y" not in text


@pytest.mark.parametrize(
    ("service", "instance", "extra", "fragment"),
    [
        ("pdp", "france", {}, "france"),
        ("printer", "fra", {}, "printer"),
        ("pdp", "fra", {"DIVE_ENV": "staging"}, "DIVE_ENV"),
        ("pdp", "fra", {"DIVE_PORT": "70000"}, "DIVE_PORT"),
        ("pdp", "fra", {"DIVE_PORT_SHIFT": "-1"}, "DIVE_PORT_SHIFT"),
        ("pdp", "fra", {"DIVE_LOG_LEVEL": "chatty"}, "DIVE_LOG_LEVEL"),
        ("pdp", "xqz", {}, "DIVE_PORT"),  # a test code has no catalog offset
        ("pdp", "fra", {"DIVE_ENV": "production", "DIVE_REDIS_URL": "redis://r"}, "DIVE_DATABASE_URL"),
        ("pdp", "fra", {"DIVE_ENV": "production", "DIVE_DATABASE_URL": "postgresql://d/x"}, "DIVE_REDIS_URL"),
    ],
)
def test_invalid_settings_are_refused_naming_what_to_fix(
    dive_home: Path, service: str, instance: str, extra: dict[str, str], fragment: str
) -> None:
    with pytest.raises(SettingsError, match=fragment) as error:
        load_service_settings(service, instance, {"DIVE_HOME": str(dive_home), **extra})
    assert error.value.code == "settings_invalid"
