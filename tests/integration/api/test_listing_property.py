"""The listing agrees with the policy engine (identity-api-ui §B.5; abac §9.4): for random users over a store written
by the real seeder, every listed document is allowed by `RegopyEngine.decide` on its stored label, and no allowed
document is missing from the unpaginated listing (every page of the real api process)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dive import catalog
from dive.policy import PolicyBundle, build_data
from dive.policy.engines import RegopyEngine
from dive.policy.pep_input import build_read_input
from dive.policy.registry_feed import registry_data_from
from dive.seed import DEFAULT_SEED, seed_documents, write_seed
from dive.store import (
    FederationRegistryRepository,
    create_engine_for,
    instance_database_url,
    session_factory,
    writer_session_factory,
)
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.store.models.resources import Resource
from dive.ztdf import KasTarget
from harness import ServiceProcess

from .deployment import AS_OF, start_api, start_kas
from .issuer import Issuer, start_issuer

SEEDED = 150
COUNTRIES = ("USA", "FRA", "DEU", "GBR", "CAN", "ITA", "NLD", "POL", "AUS", "NZL", "ESP", "TUR", "SAU", "XXX")
GENERIC_CLEARANCES = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET", "top_secret", "BOGUS")
ORGANIZATION_TYPES = ("GOV", "MIL", "INDUSTRY", "industry", "CONTRACTOR", "")
AMR_METHODS = ("pwd", "otp", "hwk", "mfa")
COIS = ("NATO", "NATO-COSMIC", "FVEY", "US-ONLY", "CAN-US", "FRA-US", "EU-RESTRICTED", "AUKUS", "QUAD", "Alpha")


@dataclass
class SeededApi:
    api: ServiceProcess
    issuer: Issuer
    oracle: RegopyEngine
    resources: list[Resource]
    national_terms: Mapping[str, list[str]]


def _seed(home: Path, code: str) -> None:
    """`seed_documents` + `write_seed`, as the SEEDING phase runs them, encrypted to the instance's own KAS."""
    engine = create_engine_for(instance_database_url(home, code))
    try:
        with session_factory(engine)() as session:
            entry = session.get(KasRegistryEntry, catalog.kas_id(code))
            key = session.scalars(select(KasRegistryKey).where(KasRegistryKey.kas_id == entry.kas_id)).first()
        target = KasTarget(url=entry.url, kid=key.kid, public_key_pem=key.public_key_pem.encode())
        write_seed(
            writer_session_factory(engine),
            inst=code,
            documents=list(seed_documents(DEFAULT_SEED, code, SEEDED, AS_OF)),
            kas_targets=[target],
            engine=RegopyEngine(PolicyBundle.load()),
            replace=False,
        )
    finally:
        engine.dispose()


def _oracle_and_resources(home: Path, code: str, issuer: Issuer) -> tuple[RegopyEngine, list[Resource]]:
    """An engine with the `data.dive` the api builds from the same registry, and every stored document."""
    bundle = PolicyBundle.load()
    engine = create_engine_for(instance_database_url(home, code))
    try:
        with session_factory(engine)() as session:
            snapshot = FederationRegistryRepository().read_policy_registry(session)
            resources = list(session.scalars(select(Resource).order_by(Resource.resource_id)))
            session.expunge_all()
    finally:
        engine.dispose()
    registry = registry_data_from(snapshot, own_code=code.upper(), own_issuer=issuer.url, production=False)
    return RegopyEngine(bundle, build_data(bundle.static_data, registry)), resources


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededApi]:
    home = tmp_path_factory.mktemp("listing") / "home"
    home.mkdir(mode=0o700)
    issuer, server = start_issuer(home, "usa")
    kas = start_kas(home, "usa", issuer.url)
    try:
        _seed(home, "usa")
        oracle, resources = _oracle_and_resources(home, "usa", issuer)
        exact: Mapping[str, Mapping[str, str]] = PolicyBundle.load().static_data["clearance"]["exact"]  # type: ignore[index]
        terms = {country: sorted(exact.get(country, {})) for country in COUNTRIES}
        api = start_api(home, "usa", issuer.url)
        try:
            yield SeededApi(api=api, issuer=issuer, oracle=oracle, resources=resources, national_terms=terms)
        finally:
            api.stop()
    finally:
        kas.stop()
        server.shutdown()
        server.server_close()


@st.composite
def users(draw: st.DrawFn, national_terms: Mapping[str, list[str]]) -> dict[str, Any]:
    """Claims of a random user: a national or generic clearance term, country, COIs, organisation type, acr/amr."""
    country = draw(st.sampled_from(COUNTRIES))
    clearance_country = draw(st.sampled_from((None, country, *COUNTRIES[:4])))
    terms = national_terms.get(clearance_country or country) or list(GENERIC_CLEARANCES)
    claims: dict[str, Any] = {
        "uniqueID": f"prop-{draw(st.integers(0, 10**6))}",
        "clearance": draw(st.sampled_from(terms) | st.sampled_from(GENERIC_CLEARANCES)),
        "countryOfAffiliation": country,
        "acpCOI": draw(st.lists(st.sampled_from(COIS), max_size=4, unique=True)),
        "organizationType": draw(st.sampled_from(ORGANIZATION_TYPES)),
        "acr": draw(st.sampled_from(("0", "1", "2", "2", "3"))),  # AAL2 more often: most labels need it
        "amr": draw(st.lists(st.sampled_from(AMR_METHODS), min_size=1, max_size=3, unique=True)),
    }
    if clearance_country is not None:
        claims["clearanceCountry"] = clearance_country
    return claims


def _listed(seeded: SeededApi, token: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    with seeded.api.client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            params = {"pageSize": "100", **({"cursor": cursor} if cursor else {})}
            response = client.get("/api/resources", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            ids += [item["resourceId"] for item in body["items"]]
            cursor = body["nextCursor"]
            if cursor is None:
                return ids


def _allowed(seeded: SeededApi, claims: Mapping[str, Any]) -> set[str]:
    now = datetime.now(UTC)
    inputs = [
        build_read_input(claims, resource, authenticated=True, tenant="USA", now=now) for resource in seeded.resources
    ]
    decisions = seeded.oracle.decide_many(inputs)
    pairs = zip(seeded.resources, decisions, strict=True)
    return {resource.resource_id for resource, decision in pairs if decision.allow}


def test_the_store_holds_every_seeded_document_and_some_users_see_part_of_it(seeded: SeededApi):
    assert len(seeded.resources) == SEEDED
    cleared = seeded.issuer.token(clearance="TOP SECRET", acpCOI=["NATO", "FVEY", "NATO-COSMIC", "US-ONLY"])
    listed = _listed(seeded, cleared)
    assert 0 < len(listed) < SEEDED and len(listed) == len(set(listed))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_for_random_users_the_unpaginated_listing_is_exactly_what_the_engine_allows(
    seeded: SeededApi, data: st.DataObject
):
    user = data.draw(users(seeded.national_terms), label="user")
    token = seeded.issuer.token(**user)
    claims = {**user, "iss": seeded.issuer.url}
    listed = _listed(seeded, token)
    allowed = _allowed(seeded, claims)
    event("allowed: none" if not allowed else "allowed: some" if len(allowed) < SEEDED // 3 else "allowed: many")
    assert len(listed) == len(set(listed)), "a document is listed twice across pages"
    assert set(listed) - allowed == set(), "listed but denied by the engine"
    assert allowed - set(listed) == set(), "allowed by the engine but missing from the listing"
