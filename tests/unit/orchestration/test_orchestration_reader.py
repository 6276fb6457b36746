"""The api reads the orchestration DB with least privilege (orchestration §9.4, §12.1): on PostgreSQL through the
read-only role `dive_orchestration_reader`, never the server role of DIVE_DATABASE_URL; embedded, the file itself.
The PostgreSQL variant provisions a throw-away role on a throw-away database of DIVE_TEST_DATABASE_URL."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dbfixtures import call_concurrently, postgres_database
from dive.orchestration.database import orchestration_url
from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.orchestration.deploy.orchestration_reader import ORCHESTRATION_READER_ROLE, grant_read_only
from dive.secrets.generation import SHARED_ORCHESTRATION_READER_PASSWORD, ensure_secrets
from dive.store import ensure_schema

SERVER = "postgresql://dive_admin:s3rver-Secret-pw@db:5432/postgres"
READER_PASSWORD = "Reader-pw_1234567890.xyz"


def _hub(home: Path, environ: dict[str, str]) -> InstanceFacts:
    facts = instance_facts(home, "usa", environ)
    ensure_secrets(facts.secrets, facts.secret_specs)
    return facts


def _api_environment(facts: InstanceFacts) -> dict[str, str]:
    [api] = [program for program in facts.programs() if program.service == "api"]
    return dict(api.environment)


def test_embedded_hub_api_reads_the_orchestration_file_and_needs_no_reader_secret(tmp_path: Path):
    facts = _hub(tmp_path, {})

    assert _api_environment(facts)["DIVE_ORCH_DATABASE_URL"] == orchestration_url(tmp_path, {})
    assert SHARED_ORCHESTRATION_READER_PASSWORD not in {spec.path for spec in facts.secret_specs}


def test_postgres_hub_api_reads_the_orchestration_db_as_the_reader_role_never_the_server_role(tmp_path: Path):
    facts = _hub(tmp_path, {"DIVE_DATABASE_URL": SERVER})
    url = make_url(_api_environment(facts)["DIVE_ORCH_DATABASE_URL"])

    assert (url.username, url.database, url.host) == (ORCHESTRATION_READER_ROLE, "orchestration", "db")
    assert url.password == facts.secrets.get(SHARED_ORCHESTRATION_READER_PASSWORD)
    rendered = json.dumps(facts.rendered_config())
    assert "s3rver-Secret-pw" not in rendered and str(url.password) not in rendered
    assert f"postgresql+psycopg://{ORCHESTRATION_READER_ROLE}:***@db:5432/orchestration" in rendered


def test_spoke_api_beside_a_hub_gets_no_orchestration_url_and_no_reader_secret(tmp_path: Path):
    hub = _hub(tmp_path, {"DIVE_DATABASE_URL": SERVER})
    hub.directory.mkdir(parents=True)
    hub.config_path.write_text("{}", encoding="utf-8")
    spoke = instance_facts(tmp_path, "fra", {"DIVE_DATABASE_URL": SERVER})
    ensure_secrets(spoke.secrets, spoke.secret_specs)

    assert "DIVE_ORCH_DATABASE_URL" not in _api_environment(spoke)
    assert SHARED_ORCHESTRATION_READER_PASSWORD not in {spec.path for spec in spoke.secret_specs}


@pytest.fixture
def orchestration_database() -> Iterator[str]:
    """A migrated throw-away orchestration DB, reached as the (admin) role of DIVE_TEST_DATABASE_URL."""
    if not os.environ.get("DIVE_TEST_DATABASE_URL"):
        pytest.skip("DIVE_TEST_DATABASE_URL is unset: the reader role's privileges on PostgreSQL are not tested")
    with postgres_database() as url:
        ensure_schema(url)
        _execute(url, "INSERT INTO instance_offsets VALUES ('xqa', 40, now())")
        yield url


@pytest.fixture
def reader_role(orchestration_database: str) -> Iterator[str]:
    """A role name of this test only (roles are server-wide; the deployment's own role may be in use), dropped after
    the database whose grants depend on it."""
    role = f"dive_test_reader_{secrets.token_hex(4)}"
    yield role
    _execute(
        orchestration_database,
        f'DROP DATABASE IF EXISTS "{make_url(orchestration_database).database}" WITH (FORCE)',
        database="postgres",
    )
    _execute(orchestration_database, f'DROP ROLE IF EXISTS "{role}"', database="postgres")


def _execute(url: str, statement: str, *, database: str | None = None, role: str | None = None) -> list[tuple]:
    target = make_url(url).set(drivername="postgresql")
    if database is not None:
        target = target.set(database=database)
    if role is not None:
        target = target.set(username=role, password=READER_PASSWORD)
    with psycopg.connect(target.render_as_string(hide_password=False), autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.postgres
def test_reader_role_can_select_orchestration_tables_and_cannot_insert_or_create(
    orchestration_database: str, reader_role: str
):
    # Two deployers at once, then a re-run: provisioning is idempotent and tolerates a concurrent provisioner.
    outcomes = call_concurrently(2, grant_read_only, orchestration_database, reader_role, READER_PASSWORD)
    assert outcomes == [None, None]
    grant_read_only(orchestration_database, reader_role, READER_PASSWORD)
    _execute(orchestration_database, "CREATE TABLE later_migration (id integer)")  # a table of a later migration

    assert _execute(orchestration_database, "SELECT instance_code FROM instance_offsets", role=reader_role) == [
        ("xqa",)
    ]
    assert _execute(orchestration_database, "SELECT count(*) FROM later_migration", role=reader_role) == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _execute(orchestration_database, "INSERT INTO instance_offsets VALUES ('xqb', 41, now())", role=reader_role)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _execute(orchestration_database, "CREATE TABLE intruder (id integer)", role=reader_role)
    [(creates_roles, creates_databases, superuser)] = _execute(
        orchestration_database,
        f"SELECT rolcreaterole, rolcreatedb, rolsuper FROM pg_roles WHERE rolname = '{reader_role}'",
    )
    assert (creates_roles, creates_databases, superuser) == (False, False, False)
