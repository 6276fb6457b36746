"""The decision log shared by the api and the KAS (identity-api-ui §B.8; CONSISTENCY #33)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dive.store import DecisionLogRepository, DecisionQuery, DecisionRecord, RecordInvalidError

log = DecisionLogRepository()
T0 = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)


def _record(n: int, *, allow: bool = True, subject: str = "testuser-fra-3", service: str = "api") -> DecisionRecord:
    return DecisionRecord(
        decision_id=f"d-{n:04d}",
        timestamp=T0 + timedelta(seconds=n),
        path="dive/authz/decision",
        labels={"instance": "USA", "service": service},
        policy_revision="rev-1",
        requested_by="127.0.0.1",
        request_id=f"req-{n:08d}",
        input={
            "subject": {"uniqueID": subject, "clearance": "SECRET DÉFENSE", "countryOfAffiliation": "FRA"},
            "resource": {"resourceId": f"doc-USA-seed-{n:05d}", "instance": "USA", "COI": ["NATO"]},
            "action": {"operation": "read"},
        },
        result={"allow": allow, "reason": "…", "reason_code": "ok" if allow else "coi_satisfied", "checks": {}},
        metrics={"timer_eval_ns": 1900, "cached": False},
        latency_ms=4.7,
    )


def test_an_appended_record_reads_back_identically_with_an_aware_utc_timestamp(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    record = _record(1)
    with writer.begin() as session:
        log.append(session, record)

    with reader() as session:
        stored = log.get(session, "d-0001")
    assert stored == record and stored.timestamp.tzinfo is UTC
    document = stored.to_document()
    assert document["timestamp"] == "2026-03-02T08:15:01.000Z"
    assert document["bundles"] == {"dive": {"revision": "rev-1"}} and "kas" not in document


def test_a_kas_record_keeps_its_kas_fields(writer: sessionmaker[Session], reader: sessionmaker[Session]):
    kas = {"kas_id": "usa-kas", "kid": "usa-rsa-1", "key_access_object_id": "kao-0", "via": "FRA"}
    record = replace(_record(2, service="kas"), kas=kas)
    with writer.begin() as session:
        log.append(session, record)

    with reader() as session:
        assert log.get(session, "d-0002").to_document()["kas"] == kas


def test_listing_filters_by_subject_and_outcome_newest_first(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        log.append_many(session, [_record(n, allow=n % 2 == 0, subject=f"u{n % 3}") for n in range(12)])

    with reader() as session:
        denied = log.list(session, DecisionQuery(allow=False))
        by_u1 = log.list(session, DecisionQuery(subject="u1", reason_code="ok"))
    assert [r.decision_id for r in denied.items] == [f"d-{n:04d}" for n in (11, 9, 7, 5, 3, 1)]
    assert [r.decision_id for r in by_u1.items] == ["d-0010", "d-0004"]
    assert denied.next_cursor is None


def test_pages_followed_by_cursor_concatenate_to_the_whole_set(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        log.append_many(session, [_record(n) for n in range(7)])

    seen, cursor = [], None
    with reader() as session:
        while True:
            page = log.list(session, DecisionQuery(instance="USA", limit=3, after=cursor))
            seen += [record.decision_id for record in page.items]
            if (cursor := page.next_cursor) is None:
                break
    assert seen == [f"d-{n:04d}" for n in range(6, -1, -1)]


def test_a_duplicate_decision_id_is_rejected(writer: sessionmaker[Session]):
    with writer.begin() as session:
        log.append(session, _record(1))
    with pytest.raises(RecordInvalidError) as err, writer.begin() as session:
        log.append(session, _record(1))
    assert err.value.code == "store_record_invalid"


def test_a_page_size_above_500_is_rejected(reader: sessionmaker[Session]):
    with pytest.raises(RecordInvalidError, match="limit=501"), reader() as session:
        log.list(session, DecisionQuery(limit=501))


def test_purging_removes_only_records_older_than_the_cutoff(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        log.append_many(session, [_record(n) for n in range(5)])
    with writer.begin() as session:
        assert log.purge_before(session, T0 + timedelta(seconds=3)) == 3

    with reader() as session:
        assert [r.decision_id for r in log.list(session, DecisionQuery()).items] == ["d-0004", "d-0003"]
