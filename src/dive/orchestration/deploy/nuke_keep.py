"""The `--keep-data` and `--force` parts of `nuke` (spec/orchestration.md §10, §6.4).

`--keep-data` keeps the databases, secrets, CA and KAS keys: processes, registrations, links, logs, certificates and
rendered settings are removed, and each nuked instance goes CLEANUP → UNKNOWN (its history stays), so the next deploy
starts afresh on the kept data. `--force` terminates a live lock holder first (as `spoke clean-locks --force`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from dive.orchestration.clean_locks import terminate_holder
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.unregister import clear_registrations
from dive.orchestration.errors import LockHeldError
from dive.orchestration.locks import DeployLock, acquire_deploy_lock, deploy_lock_name, read_holder
from dive.orchestration.recovery import recover_instance
from dive.orchestration.states import current_state, transition
from dive.store import writer_session_factory

__all__ = ["KEPT_WITH_DATA", "acquire_nuke_lock", "clean_state", "strip_instance"]

# The instance database, the KAS public keys, the run event logs (the history the kept orchestration DB points at)
# and the seeding record survive; logs, certificates and the rendered settings are re-made by the next deploy.
KEPT_WITH_DATA: Final = frozenset({"data", "kas", "runs", "seed.json"})
_TERMINATE_WAIT_S: Final = 10.0  # the guard frees once the terminated holder has exited


def acquire_nuke_lock(engine: Engine, home: Path, code: str, *, force: bool) -> DeployLock:
    """`deploy:<code>`, non-blocking; a live holder refuses the nuke (exit 2) unless `force` terminates it first."""
    try:
        return acquire_deploy_lock(engine, home, code, run_id=None, command="nuke")
    except LockHeldError:
        if not force:
            raise
    holder = read_holder(engine, home, code)
    if holder is not None:
        terminate_holder(engine, holder, deploy_lock_name(code))
    return acquire_deploy_lock(engine, home, code, run_id=None, command="nuke", wait_s=_TERMINATE_WAIT_S)


def clean_state(engine: Engine, code: str) -> None:
    """Under the instance lock: an interrupted run is recovered, then the state goes CLEANUP → UNKNOWN."""
    sessions = writer_session_factory(engine)
    recover_instance(sessions, code, run_id=None)
    with sessions() as session:
        if current_state(session, code).state == "UNKNOWN":
            return
        transition(session, code, "CLEANUP", run_id=None, reason="nuke --keep-data")
        transition(session, code, "UNKNOWN", run_id=None, reason="nuke --keep-data: data kept")


def strip_instance(facts: InstanceFacts) -> list[Path]:
    """Remove all of `instances/<c>/` but the kept data, and every registration in its database; returns the paths
    that must be gone afterwards."""
    removed = [entry for entry in facts.directory.glob("*") if entry.name not in KEPT_WITH_DATA]
    for entry in removed:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if facts.database_exists:
        clear_registrations(facts.database_url)
    return removed
