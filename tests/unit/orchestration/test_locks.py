"""The deploy lock (orchestration §6): flock and PostgreSQL advisory guards, the record, holder liveness."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dive.orchestration.errors import LockHeldError
from dive.orchestration.liveness import current_process_start_ticks
from dive.orchestration.locks import LockHolder, acquire_deploy_lock, read_holder
from dive.store.models.orchestration import DeploymentLock, ErrorRecord

CONTENDER = Path(__file__).with_name("lock_contender.py")
SPAWN_MARGIN_S = 4.0  # five interpreters importing dive on two busy cores


def _spawn(database_url: str, home: Path, start_at: float, hold_s: float) -> subprocess.Popen[str]:
    argv = [sys.executable, str(CONTENDER), database_url, str(home), "fra", str(start_at), str(hold_s)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def _rows(sessions: sessionmaker[Session]) -> list[DeploymentLock]:
    with sessions() as session:
        return list(session.scalars(select(DeploymentLock).order_by(DeploymentLock.id)))


def test_five_processes_contending_exactly_one_wins_and_the_others_name_the_holder(database_url: str, dive_home: Path):
    start_at = time.time() + SPAWN_MARGIN_S
    processes = [_spawn(database_url, dive_home, start_at, hold_s=4.0) for _ in range(5)]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        results.append(json.loads(out.splitlines()[0]))

    winners = [result for result in results if result["won"]]
    losers = [result for result in results if not result["won"]]
    winner_pids = {process.pid for process, result in zip(processes, results, strict=True) if result["won"]}
    assert len(winners) == 1 and len(losers) == 4
    assert {loser["code"] for loser in losers} == {"lock_held"}
    assert {loser["exit_code"] for loser in losers} == {2}
    assert {loser["detail"]["holder"]["pid"] for loser in losers} == winner_pids
    assert {loser["detail"]["holder"]["command"] for loser in losers} == {"contender"}


def test_sigkilled_holder_frees_the_guard_and_its_record_is_recognized_as_stale(
    database_url: str, dive_home: Path, engine: Engine, sessions: sessionmaker[Session]
):
    holder = _spawn(database_url, dive_home, time.time(), hold_s=600)
    assert holder.stdout is not None
    assert json.loads(holder.stdout.readline()) == {"won": True}
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)

    recorded = read_holder(engine, dive_home, "fra")
    with acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="test") as lock:
        assert lock.stale_records_closed == 1

    assert recorded is not None and recorded.pid == holder.pid and not recorded.is_alive()
    stale, ours = _rows(sessions)
    assert (stale.holder_pid, stale.release_reason) == (holder.pid, "stale")
    assert (ours.holder_pid, ours.release_reason) == (os.getpid(), "normal")
    with sessions() as session:
        error = session.scalars(select(ErrorRecord)).one()
    assert (error.error_code, error.severity, error.context) == (
        "LOCK_STALE_CLEANED",
        2,
        {"lock_id": stale.id, "holder_pid": holder.pid},
    )


def test_second_acquirer_is_refused_at_once_and_records_nothing(
    engine: Engine, dive_home: Path, sessions: sessionmaker[Session]
):
    with acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="dive spoke deploy fra"):
        with pytest.raises(LockHeldError, match="lock deploy:fra is held") as err:
            acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="second")
        rows = _rows(sessions)

    assert err.value.exit_code == 2
    assert err.value.detail["holder"]["command"] == "dive spoke deploy fra"  # type: ignore[index]
    assert len(rows) == 1


def test_wait_lock_acquires_once_the_holder_releases(engine: Engine, dive_home: Path):
    first = acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="first")
    releaser = threading.Timer(1.0, first.release)
    releaser.start()
    try:
        with acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="second", wait_s=20) as second:
            assert second.holder.command == "second"
    finally:
        releaser.join()


def test_locks_of_different_instances_do_not_exclude_each_other(engine: Engine, dive_home: Path):
    with (
        acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="fra"),
        acquire_deploy_lock(engine, dive_home, "deu", run_id=None, command="deu"),
    ):
        assert read_holder(engine, dive_home, "deu") is not None


def test_released_lock_has_no_recorded_holder(engine: Engine, dive_home: Path, sessions: sessionmaker[Session]):
    acquire_deploy_lock(engine, dive_home, "fra", run_id=None, command="once").release()

    assert _rows(sessions)[0].release_reason == "normal"
    if engine.dialect.name == "postgresql":
        assert read_holder(engine, dive_home, "fra") is None


def test_holder_with_a_reused_pid_is_not_alive():
    base = {"host": os.uname().nodename, "run_id": None, "command": "x", "since": None, "heartbeat_at": None}
    me = LockHolder(pid=os.getpid(), start_ticks=current_process_start_ticks(), **base)
    reused = LockHolder(pid=os.getpid(), start_ticks=(current_process_start_ticks() or 0) + 1, **base)

    assert me.is_alive() and not reused.is_alive()
