"""Which api exports the deployment metrics (orchestration §12.1): the hub's, and a spoke's on a home without a hub."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from dive.orchestration.deploy.instance import instance_facts
from dive.secrets import LocalKeystore
from dive.secrets.generation import ensure_secrets


def _orchestration_environment(home: Path, code: str, **environ: str) -> dict[str, dict[str, str]]:
    facts = instance_facts(home, code, environ)
    ensure_secrets(facts.secrets, facts.secret_specs)
    return {
        program.service: {key: value for key, value in program.environment.items() if key.startswith("DIVE_ORCH_")}
        for program in facts.programs()
    }


def test_hub_api_exports_the_embedded_orchestration_database(tmp_path: Path) -> None:
    rendered = _orchestration_environment(tmp_path, "usa")

    assert rendered["api"] == {
        "DIVE_ORCH_EXPORT": "1",
        "DIVE_ORCH_DATABASE_URL": f"sqlite:///{tmp_path / 'orchestration.db'}",
    }
    assert all(not variables for service, variables in rendered.items() if service != "api")


def test_hub_api_on_postgresql_exports_the_orchestration_database_of_that_server(tmp_path: Path) -> None:
    rendered = _orchestration_environment(tmp_path, "usa", DIVE_DATABASE_URL="postgresql://admin@db:5432/postgres")
    password = LocalKeystore(tmp_path).get("_shared/orchestration-reader-password")

    url = make_url(rendered["api"]["DIVE_ORCH_DATABASE_URL"])  # the password may be percent-encoded in the URL
    assert (url.drivername, url.host, url.port, url.database) == ("postgresql+psycopg", "db", 5432, "orchestration")
    assert (url.username, url.password) == ("dive_orchestration_reader", password)  # not `admin`


def test_spoke_api_exports_only_on_a_home_without_a_hub(tmp_path: Path) -> None:
    assert _orchestration_environment(tmp_path, "fra")["api"]["DIVE_ORCH_EXPORT"] == "1"

    (tmp_path / "instances" / "usa").mkdir(parents=True)
    (tmp_path / "instances" / "usa" / "config.json").write_text("{}")
    assert _orchestration_environment(tmp_path, "fra")["api"] == {}
