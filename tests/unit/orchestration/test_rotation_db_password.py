"""`secrets rotate db-password` (orchestration §9.3): only where a PostgreSQL role exists; the new value is generated
like the first one. Applying it (`ALTER ROLE`) is covered by tests/integration/deploy/test_postgres_deploy.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from dive.orchestration.deploy.instance import instance_facts
from dive.orchestration.deploy.rotation import rotate_secret
from dive.orchestration.errors import UsageError
from dive.secrets.generation import ensure_secrets, validate_secret


def test_rotating_db_password_of_an_embedded_deployment_is_refused(tmp_path: Path):
    with pytest.raises(UsageError, match="only when DIVE_DATABASE_URL names a PostgreSQL server"):
        rotate_secret(instance_facts(tmp_path, "fra", {}), "db-password", apply=True)


def test_rotating_db_password_without_apply_stores_a_new_valid_value(tmp_path: Path):
    facts = instance_facts(tmp_path, "fra", {"DIVE_DATABASE_URL": "postgresql://dive_admin@db/postgres"})
    ensure_secrets(facts.secrets, facts.secret_specs)
    before = facts.secrets.get("fra/db-password")

    assert rotate_secret(facts, "db-password", apply=False) == "fra/db-password"
    after = facts.secrets.get("fra/db-password")
    validate_secret("fra/db-password", after)
    assert after != before
