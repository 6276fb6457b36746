"""The dynamic `data.dive` loader (CONSISTENCY #8) against a real SQLite instance database and the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbfixtures import sqlite_url
from dive.policy.bundle import PolicyBundle
from dive.policy.engines.regopy_engine import RegopyEngine
from dive.policy.registry_feed import RegistryFeed, registry_data_from
from dive.store.engine import create_engine_for, session_factory, writer_session_factory
from dive.store.migrate import ensure_schema
from dive.store.models.registry import FederationSpoke
from dive.store.registry import FederationRegistryRepository, RegistrySnapshot, TrustedPartner

USA_ISSUER = "https://localhost:8443/realms/dive-v3-broker-usa"
FRA_ISSUER = "https://localhost:8453/realms/dive-v3-broker-fra"


def _snapshot(**overrides: object) -> RegistrySnapshot:
    values: dict[str, object] = {
        "version": 3,
        "trusted_partners": (TrustedPartner("FRA", FRA_ISSUER),),
        "matrix": {"USA": ("FRA",), "FRA": ("USA",)},
        "coi_members": {"NATO": ("FRA", "USA")},
        "tenants": {"USA": {"aal_top_secret": 3}},
        "test_codes": ("XYZ",),
    }
    values.update(overrides)
    return RegistrySnapshot(**values)  # type: ignore[arg-type]


def test_trusted_issuers_are_the_own_realm_plus_approved_partners() -> None:
    data = registry_data_from(_snapshot(), own_code="USA", own_issuer=USA_ISSUER, production=False)
    assert data.trusted_issuers == {USA_ISSUER: "USA", FRA_ISSUER: "FRA"}
    assert data.tenant_id == "USA"
    assert data.matrix == {"USA": ["FRA"], "FRA": ["USA"]}


def test_test_codes_are_valid_countries_only_outside_production() -> None:
    local = registry_data_from(_snapshot(), own_code="QQQ", own_issuer=USA_ISSUER, production=False)
    production = registry_data_from(_snapshot(), own_code="QQQ", own_issuer=USA_ISSUER, production=True)
    assert local.test_codes == ("QQQ", "XYZ")
    assert production.test_codes == ()


@pytest.fixture
def database(tmp_path: Path):
    url = sqlite_url(tmp_path)
    ensure_schema(url, lock_dir=tmp_path)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


def _feed(database) -> RegistryFeed:
    bundle = PolicyBundle.load()
    return RegistryFeed(
        sessions=session_factory(database),
        engine=RegopyEngine(bundle),
        static_data=dict(bundle.static_data),
        own_code="USA",
        own_issuer=USA_ISSUER,
        production=False,
    )


def _approve_fra(database) -> None:
    spoke = FederationSpoke(
        code="fra", spoke_id="spoke-fra-0a1b2c3d", role="spoke", kind="local", status="approved",
        api_url="https://localhost:4010/api", web_url="https://localhost:3010", idp_url="https://localhost:8453",
        kas_url="https://localhost:9010/kas", issuer=FRA_ISSUER,
    )  # fmt: skip
    with writer_session_factory(database).begin() as session:
        repository = FederationRegistryRepository()
        repository.save_spoke(session, spoke)
        repository.set_matrix_pair(session, "usa", "fra", source="approval")


def test_refresh_reloads_the_engine_only_when_the_registry_version_changes(database) -> None:
    feed = _feed(database)
    reloads: list[tuple[int, str]] = []
    feed.on_reload = lambda version, revision: reloads.append((version, revision))
    assert feed.refresh() is True
    first_revision = feed.engine.revision()
    assert feed.refresh() is False
    _approve_fra(database)
    assert feed.refresh() is True
    assert feed.engine.revision() != first_revision
    assert [version for version, _ in reloads] == [0, feed.version]
    trusted = feed.engine.query("dive/federation/trusted_issuers").value
    assert trusted == {USA_ISSUER: {"instance": "USA"}, FRA_ISSUER: {"instance": "FRA"}}
    assert feed.engine.query("dive/federation/matrix/USA").value == ["FRA"]
