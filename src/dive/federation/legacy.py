"""`federation migrate` and the read-through import of the legacy registry file (orchestration §8.7).

One way, verified, crash-safe: (1) parse and hash the file; (2) one transaction writes everything and marks the
import `imported`; (3) read back every accepted code and pair; (4) `retiring`, rename (or delete), `retired`.
A rerun after a crash at any point converges: nothing is written twice and the file never stays a second source."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dive.federation.errors import LegacyRegistryError, LegacyVerificationError
from dive.federation.legacy_mapping import LegacyPlan, plan_legacy_import
from dive.federation.records import instance_session, set_link_rows
from dive.orchestration.crash import crash_at
from dive.store import FederationRegistryRepository
from dive.store.models.registry import (
    LEGACY_IMPORT_KEY,
    FederationMatrixEntry,
    FederationSpoke,
    RegistryImport,
    RegistryMeta,
)

__all__ = ["MigrationResult", "legacy_registry_path", "migrate_legacy", "read_through_legacy"]

log = logging.getLogger(__name__)
Outcome = Literal["migrated", "finished", "nothing", "dry_run"]


@dataclass
class MigrationResult:
    outcome: Outcome
    source: Path
    sha256: str | None = None
    plan: LegacyPlan | None = None
    retired_path: Path | None = None
    retired_at: datetime | None = None
    verified: tuple[int, int] = (0, 0)  # spokes, pairs found on read-back
    notes: list[str] = field(default_factory=list)


def legacy_registry_path(environ: Mapping[str, str], project_root: Path) -> Path:
    """`DIVE_LEGACY_REGISTRY`, else `<project root>/config/federation-registry.json` (§1.1)."""
    raw = environ.get("DIVE_LEGACY_REGISTRY")
    return Path(raw) if raw else project_root / "config" / "federation-registry.json"


def migrate_legacy(
    source: Path,
    *,
    db_url: str,
    lock_dir: Path,
    environ: Mapping[str, str],
    delete: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> MigrationResult:
    """Import `source` into the hub registry at `db_url` under the `registry-import` lock, then retire the file."""
    with _import_lock(lock_dir):
        if not source.exists():
            return _finish_without_source(source, db_url)
        raw = source.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise LegacyRegistryError(f"{source} is not JSON: {exc}") from exc
        with instance_session(db_url) as session:
            row = _import_row(session, digest)
            existing = set() if row is not None else _existing_codes(session)
        plan = plan_legacy_import(document, existing=existing, environ=environ, force=force)
        result = MigrationResult("migrated", source, digest, plan)
        if dry_run:
            result.outcome = "dry_run"
            return result
        if row is None:
            _commit_import(db_url, source, digest, plan, environ)
        result.verified = _verify(db_url, digest, plan)
        _retire(db_url, source, digest, delete=delete, environ=environ, result=result)
        return result


def read_through_legacy(db_url: str, source: Path, *, lock_dir: Path, environ: Mapping[str, str]) -> str | None:
    """The first registry read of a process: import when the registry is empty, not retired and the file exists.

    Never raises: a failure is logged and returned as the reason ("legacy registry present but not imported")."""
    try:
        with instance_session(db_url) as session:
            empty = not session.scalar(select(func.count()).select_from(FederationSpoke))
            state = session.get(RegistryMeta, LEGACY_IMPORT_KEY)
        if not empty or (state is not None and state.value == "retired") or not source.exists():
            return None
        migrate_legacy(source, db_url=db_url, lock_dir=lock_dir, environ=environ)
    except (LegacyRegistryError, OSError) as exc:
        log.warning("legacy registry read-through failed", extra={"source": str(source), "reason": str(exc)})
        return str(exc)
    return None


@contextmanager
def _import_lock(lock_dir: Path) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(lock_dir / "registry-import.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # a concurrent importer waits, then finds the work done
        yield
    finally:
        os.close(descriptor)


def _import_row(session: Session, digest: str) -> RegistryImport | None:
    query = select(RegistryImport).where(
        RegistryImport.source_sha256 == digest, RegistryImport.status.in_(("imported", "retiring", "retired"))
    )
    return session.scalars(query.order_by(RegistryImport.id.desc())).first()


def _existing_codes(session: Session) -> set[str]:
    return set(session.scalars(select(FederationSpoke.code)))


def _commit_import(db_url: str, source: Path, digest: str, plan: LegacyPlan, environ: Mapping[str, str]) -> None:
    """Step 2, one transaction; a crash before its commit leaves the database as it was."""
    repository = FederationRegistryRepository()
    with instance_session(db_url) as session:
        row = RegistryImport(source_path=str(source), source_sha256=digest, source_version=plan.version[:16],
                             status="importing", counts={**plan.counts()}, warnings=list(plan.warnings))  # fmt: skip
        session.add(row)
        session.flush()
        for spoke in plan.spokes:
            session.add(FederationSpoke(code=spoke.code, **spoke.values))
        session.flush()
        for owner, partner in plan.pairs:  # §8.7 imports {a:[b]} as written (CONSISTENCY #9): one row per pair
            if session.get(FederationMatrixEntry, (owner, partner)) is None:
                session.add(FederationMatrixEntry(owner_code=owner, partner_code=partner, source="legacy_import"))
        for code in plan.link_codes:
            set_link_rows(session, "usa", code, "PENDING")
        repository.bump_version(session)
        row.status, row.finished_at = "imported", datetime.now(UTC)
        _set_state(session, "imported")
        session.flush()
        crash_at("migrate:before_commit", environ)
    crash_at("migrate:after_commit", environ)


def _verify(db_url: str, digest: str, plan: LegacyPlan) -> tuple[int, int]:
    """Step 3: read back every accepted code and matrix pair; a mismatch marks the import failed."""
    with instance_session(db_url) as session:
        codes = _existing_codes(session)
        pairs = {(m.owner_code, m.partner_code) for m in session.scalars(select(FederationMatrixEntry))}
    spokes_found = sum(1 for code in plan.accepted if code in codes)
    pairs_found = sum(1 for pair in plan.pairs if pair in pairs)
    if spokes_found != len(plan.accepted) or pairs_found != len(plan.pairs):
        message = f"read-back found {spokes_found}/{len(plan.accepted)} spokes, {pairs_found}/{len(plan.pairs)} pairs"
        with instance_session(db_url) as session:
            row = _import_row(session, digest)
            if row is not None:
                row.status, row.error = "failed", message
        raise LegacyVerificationError(f"legacy import not verified: {message}; the file was left in place")
    return spokes_found, pairs_found


def _retire(
    db_url: str, source: Path, digest: str, *, delete: bool, environ: Mapping[str, str], result: MigrationResult
) -> None:
    """Step 4: `retiring` (with the target name) is committed before the rename, so a rerun can finish it."""
    now = datetime.now(UTC)
    target = source.with_name(f"{source.name}.migrated-{now.strftime('%Y%m%dT%H%M%SZ')}")
    with instance_session(db_url) as session:
        row = _import_row(session, digest)
        if row is None:
            raise LegacyVerificationError(f"no import row for {source}; run dive federation migrate again")
        row.status, row.retired_path = "retiring", None if delete else str(target)
        _set_state(session, "retiring")
    if delete:
        source.unlink()
    else:
        os.replace(source, target)
    crash_at("migrate:after_rename", environ)
    _mark_retired(db_url, digest)
    result.retired_path, result.retired_at = (None if delete else target), now


def _finish_without_source(source: Path, db_url: str) -> MigrationResult:
    """The file is gone: finish a `retiring` import (crash after the rename), else report what retired it."""
    with instance_session(db_url) as session:
        query = select(RegistryImport).where(RegistryImport.status.in_(("retiring", "retired")))
        row = session.scalars(query.order_by(RegistryImport.id.desc())).first()
        if row is None:
            raise LegacyRegistryError(f"no legacy registry at {source} and none imported; pass --from FILE")
        retired_path = Path(row.retired_path) if row.retired_path else None
        finished = row.status == "retiring"
        if finished:
            row.status, row.finished_at = "retired", datetime.now(UTC)
            _set_state(session, "retired")
        result = MigrationResult("finished" if finished else "nothing", source, row.source_sha256)
        result.retired_path, result.retired_at = retired_path, row.finished_at
    return result


def _mark_retired(db_url: str, digest: str) -> None:
    with instance_session(db_url) as session:
        row = _import_row(session, digest)
        if row is not None:
            row.status, row.finished_at = "retired", datetime.now(UTC)
        _set_state(session, "retired")


def _set_state(session: Session, state: str) -> None:
    session.merge(RegistryMeta(key=LEGACY_IMPORT_KEY, value=state))
