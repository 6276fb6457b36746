"""Which database an instance uses, seen from the CLI (orchestration §1.1, §1.2, §9.4): `dive_<c>` as role `dive_<c>`
on the PostgreSQL server of DIVE_DATABASE_URL, else the embedded file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dive.store import StoreConfigError
from dive.store.instance_url import (
    db_password_path,
    deployment_database_url,
    instance_database_name,
    instance_postgres_url,
    postgres_server_url,
)

SERVER = "postgresql://dive_admin:s3rver-pw@db:5432/postgres"


def test_instance_postgres_url_points_at_the_instance_database_as_its_owner_role():
    url = make_url(instance_postgres_url(SERVER, "FRA", "Abc-123_xyz.~!*+QRSTuv"))

    assert (url.drivername, url.username, url.database) == ("postgresql+psycopg", "dive_fra", "dive_fra")
    assert (url.host, url.port, url.password) == ("db", 5432, "Abc-123_xyz.~!*+QRSTuv")


def test_instance_postgres_url_without_a_password_keeps_none_of_the_server_role():
    url = make_url(instance_postgres_url(SERVER, "deu", None))

    assert url.username == "dive_deu" and url.password is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("sqlite:////srv/dive/shared.db", None),
        (SERVER, SERVER),
        ("postgresql+psycopg://postgres@127.0.0.1/postgres", "postgresql+psycopg://postgres@127.0.0.1/postgres"),
    ],
)
def test_postgres_server_url_is_set_only_for_postgresql_urls(value: str, expected: str | None):
    assert postgres_server_url({"DIVE_DATABASE_URL": value}) == expected


def test_postgres_server_url_rejects_a_malformed_url_without_echoing_it():
    with pytest.raises(StoreConfigError, match="DIVE_DATABASE_URL"):
        postgres_server_url({"DIVE_DATABASE_URL": "not a url"})


def test_deployment_database_url_is_the_embedded_file_without_a_server(tmp_path: Path):
    url = deployment_database_url({}, tmp_path, "fra", None)

    assert url == f"sqlite:///{(tmp_path / 'instances' / 'fra' / 'data' / 'instance.db').resolve()}"


def test_deployment_database_url_on_a_server_uses_the_instance_role(tmp_path: Path):
    url = make_url(deployment_database_url({"DIVE_DATABASE_URL": SERVER}, tmp_path, "usa", "pw-Long-enough-1"))

    assert (url.username, url.database, url.password) == ("dive_usa", "dive_usa", "pw-Long-enough-1")


def test_names_follow_the_catalog():
    assert instance_database_name("FRA") == "dive_fra"
    assert db_password_path("FRA") == "fra/db-password"
