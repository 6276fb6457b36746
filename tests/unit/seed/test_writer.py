"""Writing seed documents as ZTDF resources into SQLite and PostgreSQL (abac §7, §9.2; ztdf-kas §6.2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import postgres_database, sqlite_url
from dive.domain import COI_MEMBERS, ISO_ALPHA3, derive_label_columns
from dive.policy import PolicyBundle, RegistryData, build_data
from dive.policy.engines import RegopyEngine
from dive.seed import (
    SeedLabelRejectedError,
    SeedOptionsError,
    SeedResult,
    kas_targets_for,
    seed_documents,
    seed_label,
    write_seed,
)
from dive.store import ResourceRepository, create_engine_for, ensure_schema, writer_session_factory
from dive.store.models import Resource
from dive.ztdf import KasTarget, LocalKeySource, decrypt, open_ztdf

from .helpers import AS_OF, private_pem, public_pem

OWNER_URL: Final = "https://localhost:9010/kas"
HUB_URL: Final = "https://localhost:9000/kas"


@pytest.fixture(scope="module")
def owner_target(kas_key: rsa.RSAPrivateKey) -> KasTarget:
    return KasTarget(url=OWNER_URL, kid="fra-r1", public_key_pem=public_pem(kas_key))


@pytest.fixture(scope="module")
def hub_target(kas_key: rsa.RSAPrivateKey) -> KasTarget:
    return KasTarget(url=HUB_URL, kid="usa-r1", public_key_pem=public_pem(kas_key))


def _migrated(url: str) -> Iterator[Engine]:
    ensure_schema(url)
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    for engine in _migrated(sqlite_url(tmp_path)):
        yield writer_session_factory(engine)


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Resource)) or 0


def _archives(factory: sessionmaker[Session]) -> dict[str, bytes]:
    with factory() as session:
        rows = session.scalars(select(Resource)).all()
        return {row.resource_id: row.payload.archive for row in rows if row.payload is not None}


def _assert_round_trip(
    factory: sessionmaker[Session], resource_id: str, kas_key: rsa.RSAPrivateKey, expected_body: str
) -> None:
    keys = LocalKeySource.from_pem(private_pem(kas_key), "fra-r1")
    repository = ResourceRepository()
    with factory() as session:
        row = repository.get(session, resource_id)
        assert row is not None and row.payload is not None
        with open_ztdf(row.payload.archive) as container:
            assert decrypt(container, keys).decode("utf-8") == expected_body
            assert container.label is not None and container.label.classification == row.classification
        columns = derive_label_columns(row.label, valid=ISO_ALPHA3)
        assert (row.classification_rank, row.coi_count, row.coi_operator) == (
            columns.classification_rank,
            columns.coi_count,
            columns.coi_operator,
        )
        assert row.label_ok and row.label_ok_strict and row.integrity_ok and row.encrypted
        assert row.instance_code == "fra" and row.title.endswith(resource_id[-5:].lstrip("0"))
        assert repository.releasability_of(session, row) == sorted(row.label["releasabilityTo"])
        assert repository.cois_of(session, row) == sorted(row.label["COI"])
        assert row.kas_urls == [OWNER_URL, HUB_URL][: row.kao_count]


def test_write_seed_into_sqlite_stores_decryptable_documents_with_their_columns(
    sqlite_store: sessionmaker[Session],
    engine: RegopyEngine,
    kas_key: rsa.RSAPrivateKey,
    owner_target: KasTarget,
    hub_target: KasTarget,
) -> None:
    documents = list(seed_documents("dive", "FRA", 100, AS_OF))
    calls: list[tuple[int, int]] = []
    result = write_seed(
        sqlite_store,
        inst="fra",
        documents=documents,
        kas_targets=[owner_target],
        hub_kas_target=hub_target,
        engine=engine,
        replace=False,
        batch_size=40,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert (result.written, result.skipped) == (100, 0) and result.documents_per_second > 0
    assert calls == [(40, 100), (80, 100), (100, 100)]
    assert _count(sqlite_store) == 100
    national = next(d for d in documents if d.template == "H1")
    coalition = next(d for d in documents if d.template.startswith("C"))
    for document in (national, coalition):
        _assert_round_trip(sqlite_store, document.resource_id, kas_key, document.body)
    with sqlite_store() as session:
        assert ResourceRepository().get(session, national.resource_id).kao_count == 1  # type: ignore[union-attr]
        assert ResourceRepository().get(session, coalition.resource_id).kas_urls == [OWNER_URL, HUB_URL]  # type: ignore[union-attr]


def test_reseeding_without_replace_skips_and_with_replace_rewrites(
    sqlite_store: sessionmaker[Session], engine: RegopyEngine, owner_target: KasTarget
) -> None:
    documents = list(seed_documents("dive", "FRA", 12, AS_OF))
    options = {"inst": "FRA", "kas_targets": [owner_target], "engine": engine, "batch_size": 5}
    write_seed(sqlite_store, documents=documents[:7], replace=False, **options)  # type: ignore[arg-type]
    before = _archives(sqlite_store)
    resumed = write_seed(sqlite_store, documents=documents, replace=False, **options)  # type: ignore[arg-type]
    assert (resumed.written, resumed.skipped) == (5, 7)
    after = _archives(sqlite_store)
    assert all(after[rid] == archive for rid, archive in before.items())
    replaced = write_seed(sqlite_store, documents=documents, replace=True, **options)  # type: ignore[arg-type]
    assert (replaced.written, replaced.skipped) == (12, 0)
    assert _count(sqlite_store) == 12
    rewritten = _archives(sqlite_store)
    assert all(rewritten[rid] != archive for rid, archive in after.items())  # a fresh DEK per write


def test_a_label_the_engine_rejects_aborts_the_seed_and_keeps_earlier_batches(
    sqlite_store: sessionmaker[Session], policy_bundle: PolicyBundle, owner_target: KasTarget
) -> None:
    """A registry without NATO makes NATO-tagged labels fail V7 under the strict check."""
    registry = RegistryData(coi_members={coi: list(m) for coi, m in COI_MEMBERS.items() if coi != "NATO"})
    strict_engine = RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, registry))
    documents = list(seed_documents("dive", "FRA", 60, AS_OF))
    first_bad = next(i for i, d in enumerate(documents) if "NATO" in d.label["COI"])
    with pytest.raises(SeedLabelRejectedError, match=documents[first_bad].resource_id) as err:
        write_seed(
            sqlite_store, inst="FRA", documents=documents, kas_targets=[owner_target], engine=strict_engine,
            replace=False, batch_size=1,
        )  # fmt: skip
    assert err.value.code == "seed_label_rejected"
    assert _count(sqlite_store) == first_bad


def test_the_hub_copy_is_added_only_to_spoke_documents_releasable_beyond_the_owner(
    owner_target: KasTarget, hub_target: KasTarget
) -> None:
    national = next(d for d in seed_documents("dive", "FRA", 200, AS_OF) if d.template == "H1")
    coalition = next(d for d in seed_documents("dive", "FRA", 200, AS_OF) if d.template == "C09")
    hub_document = seed_label("dive", "USA", 1, AS_OF)
    assert kas_targets_for(national, [owner_target], hub_target) == [owner_target]
    assert kas_targets_for(coalition, [owner_target], hub_target) == [owner_target, hub_target]
    assert kas_targets_for(coalition, [owner_target], None) == [owner_target]
    assert kas_targets_for(hub_document, [hub_target], hub_target) == [hub_target]


def test_write_seed_refuses_documents_of_another_instance_and_a_missing_kas(
    sqlite_store: sessionmaker[Session], engine: RegopyEngine, owner_target: KasTarget
) -> None:
    documents = list(seed_documents("dive", "DEU", 2, AS_OF))
    with pytest.raises(SeedOptionsError, match="doc-DEU-seed-00001") as err:
        write_seed(
            sqlite_store, inst="FRA", documents=documents, kas_targets=[owner_target], engine=engine, replace=False
        )
    assert err.value.code == "seed_options_invalid"
    with pytest.raises(SeedOptionsError, match="no KAS target"):
        write_seed(sqlite_store, inst="DEU", documents=documents, kas_targets=[], engine=engine, replace=False)
    assert _count(sqlite_store) == 0


@pytest.mark.postgres
def test_write_seed_into_postgresql_stores_decryptable_documents(
    engine: RegopyEngine, kas_key: rsa.RSAPrivateKey, owner_target: KasTarget, hub_target: KasTarget
) -> None:
    documents = list(seed_documents("dive", "FRA", 50, AS_OF))
    with postgres_database() as url:
        for db in _migrated(url):
            factory = writer_session_factory(db)
            result: SeedResult = write_seed(
                factory, inst="FRA", documents=documents, kas_targets=[owner_target], hub_kas_target=hub_target,
                engine=engine, replace=False,
            )  # fmt: skip
            assert (result.written, _count(factory)) == (50, 50)
            again = write_seed(
                factory, inst="FRA", documents=documents, kas_targets=[owner_target], engine=engine, replace=True
            )
            assert (again.written, _count(factory)) == (50, 50)
            _assert_round_trip(factory, documents[-1].resource_id, kas_key, documents[-1].body)
