"""Resources with their label denormalised for the pushdown (abac §9.2; CONSISTENCY #5, #12)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import exists, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from dive.store import RecordInvalidError, ResourceRepository
from dive.store.models import Resource, ResourceCoi, ResourcePayload, ResourceReleasability

resources = ResourceRepository()
CREATED = datetime(2026, 3, 2, 10, 11, 12, tzinfo=UTC)


def _resource(resource_id: str = "doc-USA-seed-00001", *, title: str = "Logistics", archive: bytes = b"PK\x03\x04"):
    label = {
        "classification": "SECRET",
        "releasabilityTo": ["USA", "GBR", "FRA"],
        "COI": ["NATO"],
        "coiOperator": "ALL",
        "caveats": [],
        "creationDate": "2026-03-02T10:11:12Z",
        "releasableToIndustry": False,
    }
    return Resource(
        resource_id=resource_id,
        instance_code="usa",
        title=title,
        classification="SECRET",
        label=label,
        encrypted=True,
        classification_rank=3,
        coi_operator="ALL",
        has_us_only=False,
        creation_ts=CREATED,
        releasable_to_industry=False,
        label_ok=True,
        label_ok_strict=True,
        integrity_ok=True,
        payload=ResourcePayload(archive=archive),
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_upsert_writes_the_join_rows_and_coi_count(writer: sessionmaker[Session], reader: sessionmaker[Session]):
    with writer.begin() as session:
        resources.upsert(session, _resource(), ["USA", "GBR", "FRA", "GBR"], ["NATO"])

    with reader() as session:
        stored = resources.get(session, "doc-USA-seed-00001")
        assert resources.releasability_of(session, stored) == ["FRA", "GBR", "USA"]
        assert resources.cois_of(session, stored) == ["NATO"]
        assert (stored.coi_count, stored.creation_ts, stored.payload.archive) == (1, CREATED, b"PK\x03\x04")


def test_upsert_of_an_existing_id_replaces_label_rows_and_archive_but_keeps_the_row(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        first = resources.upsert(session, _resource(), ["USA", "FRA"], ["NATO"])
        pk, created_at = first.pk, first.created_at
    with writer.begin() as session:
        resources.upsert(session, _resource(title="Logistics v2", archive=b"PK-v2"), ["USA"], [])

    with reader() as session:
        stored = resources.get(session, "doc-USA-seed-00001")
        assert (stored.pk, stored.created_at, stored.title, stored.coi_count) == (pk, created_at, "Logistics v2", 0)
        assert stored.payload.archive == b"PK-v2"
        assert resources.releasability_of(session, stored) == ["USA"]
        assert (_count(session, Resource), _count(session, ResourceCoi), _count(session, ResourcePayload)) == (1, 0, 1)


def test_the_join_rows_answer_the_pushdown_exists_clauses(writer: sessionmaker[Session], reader: sessionmaker[Session]):
    with writer.begin() as session:
        resources.upsert(session, _resource("doc-USA-seed-00001"), ["USA", "FRA"], ["NATO"])
        resources.upsert(session, _resource("doc-USA-seed-00002"), ["USA"], ["FVEY"])

    releasable_to_fra = exists().where(
        ResourceReleasability.resource_pk == Resource.pk, ResourceReleasability.country == "FRA"
    )
    with reader() as session:
        ids = session.scalars(select(Resource.resource_id).where(Resource.label_ok, releasable_to_fra)).all()
    assert ids == ["doc-USA-seed-00001"]


def test_deleting_a_resource_cascades_to_its_archive_and_join_rows(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        resources.upsert(session, _resource(), ["USA", "FRA"], ["NATO"])
    with writer.begin() as session:
        assert resources.delete(session, "doc-USA-seed-00001")
        assert not resources.delete(session, "doc-USA-seed-00001")

    with reader() as session:
        counts = [_count(session, model) for model in (Resource, ResourcePayload, ResourceReleasability, ResourceCoi)]
    assert counts == [0, 0, 0, 0]


def test_a_failed_integrity_check_is_recorded_on_the_row(writer: sessionmaker[Session], reader: sessionmaker[Session]):
    with writer.begin() as session:
        resources.upsert(session, _resource(), ["USA"], [])
    with writer.begin() as session:
        resources.set_integrity(session, "doc-USA-seed-00001", False)

    with reader() as session:
        assert resources.get(session, "doc-USA-seed-00001").integrity_ok is False


def test_an_upper_case_owner_code_is_rejected_by_the_database(writer: sessionmaker[Session]):
    resource = _resource()
    resource.instance_code = "USA"
    with pytest.raises(RecordInvalidError, match="doc-USA-seed-00001"), writer.begin() as session:
        resources.upsert(session, resource, ["USA"], [])


def test_a_naive_timestamp_is_refused_rather_than_stored_ambiguously(writer: sessionmaker[Session]):
    resource = _resource()
    resource.creation_ts = datetime(2026, 3, 2, 10, 11, 12)
    with pytest.raises(StatementError, match="naive datetime"), writer.begin() as session:
        resources.upsert(session, resource, ["USA"], [])
