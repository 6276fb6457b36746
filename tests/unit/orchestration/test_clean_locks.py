"""`spoke clean-locks` (orchestration §6.4) against real holder processes: a dead holder's lock is cleaned with crash
recovery, a live holder's lock is left alone, and `--force` terminates the holder first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.clean_locks import clean_locks, clean_locks_document, recorded_lock_codes
from dive.orchestration.run_records import insert_run
from dive.orchestration.states import current_state, transition
from dive.store.models.orchestration import DeploymentLock, ErrorRecord, PipelineRun, StateTransition

CONTENDER = Path(__file__).with_name("lock_contender.py")
CONTENDER_RUN_ID = "20250101T000000Z-abcdef"  # the run id lock_contender.py records


@pytest.fixture
def holder(database_url: str, dive_home: Path, sessions: sessionmaker[Session]) -> Iterator[subprocess.Popen[str]]:
    """A process holding `deploy:fra` for a run that is in INITIALIZING, as a deploy would be."""
    with sessions() as session:
        insert_run(
            session,
            run_id=CONTENDER_RUN_ID,
            code="fra",
            command="spoke deploy fra",
            kind="full",
            args={},
            plan=[],
            event_log="",
        )
        transition(session, "fra", "INITIALIZING", run_id=CONTENDER_RUN_ID, reason="test deploy")
    argv = [sys.executable, str(CONTENDER), database_url, str(dive_home), "fra", str(time.time()), "600"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"won": True}
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def _lock_rows(sessions: sessionmaker[Session]) -> list[DeploymentLock]:
    with sessions() as session:
        return list(session.scalars(select(DeploymentLock).order_by(DeploymentLock.id)))


def test_lock_of_a_sigkilled_holder_is_cleaned_and_the_instance_recovered_to_failed(
    holder: subprocess.Popen[str], engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)

    [cleaning] = clean_locks(engine, dive_home)

    assert (cleaning.code, cleaning.result, cleaning.interrupted_runs) == ("fra", "cleaned", (CONTENDER_RUN_ID,))
    assert cleaning.sentence() == (
        f"deploy:fra: holder pid {holder.pid} gone, cleaned; run {CONTENDER_RUN_ID} marked INTERRUPTED"
    )
    stale, ours = _lock_rows(sessions)
    assert (stale.holder_pid, stale.release_reason) == (holder.pid, "stale")
    assert ours.release_reason == "normal" and recorded_lock_codes(engine) == []
    with sessions() as session:
        assert current_state(session, "fra").state == "FAILED"
        reason = session.scalars(select(StateTransition.reason).order_by(StateTransition.id.desc())).first()
        assert reason == f"interrupted; holder pid {holder.pid} gone"
        assert session.get_one(PipelineRun, CONTENDER_RUN_ID).outcome == "INTERRUPTED"
        codes = set(session.scalars(select(ErrorRecord.error_code)))
    assert codes == {"LOCK_STALE_CLEANED", "RUN_INTERRUPTED"}
    assert clean_locks_document([cleaning])["remaining"] == 0


def test_lock_of_a_live_holder_is_reported_and_not_touched(
    holder: subprocess.Popen[str], engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    [cleaning] = clean_locks(engine, dive_home, "fra")

    assert cleaning.result == "held" and holder.poll() is None
    assert cleaning.sentence() == (
        f"deploy:fra: held by live pid {holder.pid} on {cleaning.holder.host} (run {CONTENDER_RUN_ID}) — not touched"
    )
    [row] = _lock_rows(sessions)
    assert row.released_at is None and row.holder_pid == holder.pid
    with sessions() as session:
        assert current_state(session, "fra").state == "INITIALIZING"
    assert clean_locks_document([cleaning])["remaining"] == 1


def test_force_terminates_a_live_holder_then_cleans_its_lock(
    holder: subprocess.Popen[str], engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    [cleaning] = clean_locks(engine, dive_home, "fra", force=True)

    assert cleaning.result == "forced"
    assert holder.wait(timeout=10) == -signal.SIGTERM
    forced = _lock_rows(sessions)[0]
    assert (forced.holder_pid, forced.release_reason) == (holder.pid, "forced")
    with sessions() as session:
        assert current_state(session, "fra").state == "FAILED"


def test_an_instance_without_a_recorded_lock_has_nothing_to_clean(engine: Engine, dive_home: Path):
    assert clean_locks(engine, dive_home, "fra") == []
    assert clean_locks_document([]) == {"schema": "dive.clean-locks/1", "locks": [], "remaining": 0}
