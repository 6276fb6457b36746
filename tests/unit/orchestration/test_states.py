"""The state machine (orchestration §5.4) and the constraints of the orchestration tables (§5.2)."""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import sqlite_url
from dive.orchestration.errors import InvalidTransitionError
from dive.orchestration.states import ALLOWED_TRANSITIONS, STATES, current_state, is_allowed, transition
from dive.store import create_engine_for, ensure_schema, writer_session_factory
from dive.store.models.orchestration import (
    AllowedTransition,
    DeploymentLock,
    DeploymentState,
    ErrorRecord,
    InstanceOffset,
    StateTransition,
)


def _count(session: Session, model: type, code: str) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.instance_code == code)) or 0


def test_allowed_transitions_table_equals_the_code_constant(sessions: sessionmaker[Session]):
    with sessions() as session:
        rows = {(row.from_state, row.to_state) for row in session.scalars(select(AllowedTransition))}

    assert rows == {(source, target) for source, targets in ALLOWED_TRANSITIONS.items() for target in targets}


def test_failed_is_reachable_from_every_state_except_itself():
    assert all(is_allowed(state, "FAILED") for state in STATES if state != "FAILED")
    assert set(ALLOWED_TRANSITIONS) == set(STATES)


def test_first_transition_records_seq_1_from_unknown_in_both_tables(sessions: sessionmaker[Session]):
    with sessions() as session:
        result = transition(session, "fra", "INITIALIZING", run_id=None, reason="deploy")

    with sessions() as session:
        row = session.scalars(select(DeploymentState).where(DeploymentState.instance_code == "fra")).one()
        audit = session.scalars(select(StateTransition).where(StateTransition.instance_code == "fra")).one()
    assert (result.state, result.seq) == ("INITIALIZING", 1)
    assert (row.seq, row.previous_state, row.state, row.metadata_) == (1, "UNKNOWN", "INITIALIZING", {})
    assert audit.accepted and audit.rejection is None and audit.seconds_in_from_state is None


def test_same_state_transition_is_a_no_op_without_rows(sessions: sessionmaker[Session]):
    with sessions() as session:
        transition(session, "fra", "INITIALIZING", run_id=None, reason="deploy")
        again = transition(session, "fra", "INITIALIZING", run_id=None, reason="deploy again")

        assert again.seq == 1
        assert _count(session, DeploymentState, "fra") == 1
        assert _count(session, StateTransition, "fra") == 1


def test_rejected_transition_is_recorded_in_both_tables_and_raises(sessions: sessionmaker[Session]):
    with sessions() as session:
        transition(session, "deu", "INITIALIZING", run_id=None, reason="deploy")
        with pytest.raises(InvalidTransitionError, match="INITIALIZING to COMPLETE") as err:
            transition(session, "deu", "COMPLETE", run_id=None, reason="skip ahead")

    assert err.value.code == "state_transition_rejected" and err.value.exit_code == 1
    with sessions() as session:
        rejected = session.scalars(select(StateTransition).where(StateTransition.accepted.is_(False))).one()
        error = session.scalars(select(ErrorRecord)).one()
        assert current_state(session, "deu").state == "INITIALIZING"
    assert rejected.rejection == "not allowed: INITIALIZING → COMPLETE"
    assert (error.error_code, error.severity, error.instance_code) == ("STATE_TRANSITION_REJECTED", 3, "deu")


def test_database_foreign_key_refuses_a_transition_the_code_refuses(sessions: sessionmaker[Session]):
    with sessions() as session, pytest.raises(IntegrityError):
        session.add(DeploymentState(instance_code="ita", seq=1, state="COMPLETE", previous_state="UNKNOWN"))
        session.commit()


def test_state_rows_refuse_an_upper_case_instance_code(sessions: sessionmaker[Session]):
    with sessions() as session, pytest.raises(IntegrityError):
        session.add(DeploymentState(instance_code="FRA", seq=1, state="INITIALIZING", previous_state="UNKNOWN"))
        session.commit()


@pytest.mark.parametrize(("offset", "accepted"), [(39, False), (40, True), (89, True), (90, False), (93, False)])
def test_instance_offsets_accept_exactly_40_to_89(sessions: sessionmaker[Session], offset: int, accepted: bool):
    with sessions() as session:
        session.add(InstanceOffset(instance_code="xqa", port_offset=offset))
        if accepted:
            session.commit()
        else:
            with pytest.raises(IntegrityError):
                session.commit()


def _lock_row(*, released: bool) -> DeploymentLock:
    now = datetime.now(UTC)
    return DeploymentLock(
        lock_name="deploy:fra",
        instance_code="fra",
        backend="flock",
        acquired_at=now,
        released_at=now + timedelta(seconds=1) if released else None,
        release_reason="normal" if released else None,
    )


def test_deployment_locks_allow_one_unreleased_row_per_name(sessions: sessionmaker[Session]):
    with sessions() as session:
        session.add_all([_lock_row(released=True), _lock_row(released=True), _lock_row(released=False)])
        session.commit()
        session.add(_lock_row(released=False))
        with pytest.raises(IntegrityError):
            session.commit()


# The property test needs one database across examples (hypothesis refuses function-scoped fixtures).
@pytest.fixture(scope="module")
def property_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    directory: Path = tmp_path_factory.mktemp("states")
    url = sqlite_url(directory, "orchestration.db")
    ensure_schema(url, lock_dir=directory)
    engine: Engine = create_engine_for(url)
    try:
        yield writer_session_factory(engine)
    finally:
        engine.dispose()


_CODES = ("".join(letters) for letters in itertools.product(string.ascii_lowercase, repeat=3))


def _foreign_key_accepts(session: Session, source: str, target: str) -> bool:
    savepoint = session.begin_nested()
    try:
        session.add(DeploymentState(instance_code="zzz", seq=1, state=target, previous_state=source))
        session.flush()
    except IntegrityError:
        return False
    else:
        return True
    finally:
        savepoint.rollback()


@given(st.lists(st.sampled_from(STATES), min_size=1, max_size=12))
def test_random_transition_sequences_are_accepted_by_code_exactly_when_the_foreign_key_accepts_them(
    property_sessions: sessionmaker[Session], targets: list[str]
):
    code = next(_CODES)
    with property_sessions() as session:
        for target in targets:
            before = current_state(session, code).state
            if target == before:
                continue
            database_accepts = _foreign_key_accepts(session, before, target)
            try:
                transition(session, code, target, run_id=None, reason="property")
            except InvalidTransitionError:
                code_accepts = False
            else:
                code_accepts = True
            assert code_accepts == database_accepts == is_allowed(before, target)
            assert current_state(session, code).state == (target if code_accepts else before)
