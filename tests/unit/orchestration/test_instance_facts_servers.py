"""What the CLI renders for services when the deployment runs on PostgreSQL + Redis (orchestration §9.2, §9.4):
the instance database as its own role, the Redis URL and prefix, and a config.json without their passwords."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.secrets.generation import ensure_secrets

SERVERS = {
    "DIVE_DATABASE_URL": "postgresql://dive_admin:s3rver-Secret-pw@db:5432/postgres",
    "DIVE_REDIS_URL": "redis://:r3dis-Secret-pw@cache:6379/0",
}


@pytest.fixture
def facts(tmp_path: Path) -> InstanceFacts:
    facts = instance_facts(tmp_path, "FRA", SERVERS)
    ensure_secrets(facts.secrets, facts.secret_specs)
    return facts


def test_on_postgresql_the_role_password_is_a_generated_secret_delivered_inside_the_url(facts: InstanceFacts):
    [spec] = [spec for spec in facts.secret_specs if spec.path == "fra/db-password"]
    url = make_url(facts.database_url)

    assert (spec.kind, spec.services) == ("password", ())
    assert (url.username, url.database, url.host) == ("dive_fra", "dive_fra", "db")
    assert url.password == facts.secrets.get("fra/db-password")


def test_every_service_gets_the_instance_database_and_the_redis_prefix_never_the_server_role(facts: InstanceFacts):
    for program in facts.programs():
        environment = program.environment
        assert environment["DIVE_DATABASE_URL"] == facts.database_url
        assert (environment["DIVE_REDIS_URL"], environment["DIVE_REDIS_PREFIX"]) == (
            SERVERS["DIVE_REDIS_URL"],
            "dive:fra:",
        )
        assert "dive_admin" not in environment["DIVE_DATABASE_URL"]


def test_config_json_masks_the_database_and_redis_passwords(facts: InstanceFacts):
    rendered = json.dumps(facts.rendered_config())

    assert facts.secrets.get("fra/db-password") not in rendered
    assert "r3dis-Secret-pw" not in rendered and "s3rver-Secret-pw" not in rendered
    assert "postgresql+psycopg://dive_fra:***@db:5432/dive_fra" in rendered


def test_config_hash_changes_when_the_role_password_changes(facts: InstanceFacts):
    before = facts.rendered_config()["sha256"]
    facts.secrets.put("fra/db-password", "Another-pw_1234567890.xyz", overwrite=True)

    assert facts.rendered_config()["sha256"] != before


def test_embedded_deployments_have_no_role_password_and_no_redis(tmp_path: Path):
    facts = instance_facts(tmp_path, "fra", {})

    assert all(spec.path != "fra/db-password" for spec in facts.secret_specs)
    assert facts.database_url.startswith("sqlite:///") and facts.redis_url is None
