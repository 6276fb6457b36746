"""Enrolment tokens in the store (orchestration Amendment A1; CONSISTENCY #13), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import postgres_database, sqlite_url
from dive.api import issue_enrolment_token, revoke_enrolment_tokens
from dive.api.enrolment import authenticate_enrolment, authorise_enrolment, consume_enrolment
from dive.api.errors import ApiError
from dive.store import create_engine_for, ensure_schema, writer_session_factory
from dive.store.models import EnrolmentToken


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with postgres_database() if request.param == "postgresql" else _sqlite(tmp_path) as url:
        ensure_schema(url, lock_dir=tmp_path / "locks")
        engine = create_engine_for(url)
        try:
            yield writer_session_factory(engine)
        finally:
            engine.dispose()


class _sqlite:
    def __init__(self, tmp_path: Path) -> None:
        self.url = sqlite_url(tmp_path)

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


def _issue(sessions: sessionmaker[Session], code: str = "ita", **kwargs: object) -> str:
    with sessions.begin() as session:
        return issue_enrolment_token(session, code, **{"ttl_s": 3600, "auto_approve": False, **kwargs})  # type: ignore[arg-type]


def _reason(sessions: sessionmaker[Session], token: str) -> str:
    with pytest.raises(ApiError) as err, sessions() as session:
        authenticate_enrolment(session, token)
    assert err.value.code == "invalid_token" and err.value.status == 401
    return str((err.value.details or {})["reason"])


def test_issuing_stores_only_the_hash_with_the_code_lower_cased_and_the_expiry(sessions):
    before = datetime.now(UTC)
    token = _issue(sessions, "ITA", ttl_s=7200, auto_approve=True)
    with sessions() as session:
        row = session.scalars(select(EnrolmentToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert row.code == "ita" and row.auto_approve is True and row.consumed_at is None
    assert timedelta(seconds=7199) < row.expires_at - before < timedelta(seconds=7260)


@pytest.mark.parametrize(("code", "ttl_s"), [("ata", 60), ("i1a", 60), ("italy", 60), ("ita", 0), ("ita", -5)])
def test_issuing_for_an_unknown_code_or_a_non_positive_lifetime_is_refused(sessions, code: str, ttl_s: int):
    with pytest.raises(ApiError) as err, sessions.begin() as session:
        issue_enrolment_token(session, code, ttl_s=ttl_s, auto_approve=False)
    assert err.value.code == "invalid_request"


def test_a_live_token_authenticates_for_its_code_only(sessions):
    token = _issue(sessions, "ita", auto_approve=True)
    with sessions() as session:
        grant = authenticate_enrolment(session, token)
    assert grant.code == "ita" and grant.auto_approve is True
    authorise_enrolment(grant, "ITA")
    with pytest.raises(ApiError) as err:
        authorise_enrolment(grant, "gbr")
    assert err.value.status == 403 and err.value.code == "insufficient_role" and "ITA only" in str(err.value)


def test_an_unknown_token_is_refused(sessions):
    _issue(sessions)
    assert _reason(sessions, "not-a-token") == "enrolment_token_unknown"


def test_an_expired_token_is_refused(sessions):
    token = _issue(sessions)
    past = datetime.now(UTC) - timedelta(hours=2)
    with sessions.begin() as session:
        session.execute(update(EnrolmentToken).values(issued_at=past, expires_at=past + timedelta(hours=1)))
    assert _reason(sessions, token) == "enrolment_token_expired"


def test_a_consumed_token_cannot_be_consumed_or_used_again(sessions):
    token = _issue(sessions)
    with sessions.begin() as session:
        grant = authenticate_enrolment(session, token)
        consume_enrolment(session, grant)
    with pytest.raises(ApiError) as err, sessions.begin() as session:
        consume_enrolment(session, grant)  # a racer that authenticated before the first consumed
    assert err.value.code == "invalid_token" and err.value.details == {"reason": "enrolment_token_used"}
    assert _reason(sessions, token) == "enrolment_token_used"


def test_revoking_a_code_revokes_its_unspent_tokens_only(sessions):
    spent, unspent, other = _issue(sessions, "ita"), _issue(sessions, "ita"), _issue(sessions, "gbr")
    with sessions.begin() as session:
        consume_enrolment(session, authenticate_enrolment(session, spent))
    with sessions.begin() as session:
        assert revoke_enrolment_tokens(session, "ITA") == 1
    assert _reason(sessions, unspent) == "enrolment_token_revoked"
    assert _reason(sessions, spent) == "enrolment_token_used"
    with sessions() as session:
        assert authenticate_enrolment(session, other).code == "gbr"
