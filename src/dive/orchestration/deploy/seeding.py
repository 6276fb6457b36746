"""SEEDING (spec/orchestration.md §4.8; CONSISTENCY #23): documents `doc-<C>-seed-00001…` produced by the seeder,
encrypted to the instance's own KAS, stored in batches; only missing ids are produced, so a rerun resumes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Final

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from dive import catalog
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.orchestration.phases import Check
from dive.policy import PolicyBundle
from dive.policy.engines import RegopyEngine
from dive.seed import DEFAULT_SEED, SeedError, seed_documents, write_seed
from dive.store import (
    DatabaseUnavailableError,
    StoreError,
    create_engine_for,
    session_factory,
    writer_session_factory,
)
from dive.store.models.kas import KasRegistryKey
from dive.store.models.resources import Resource
from dive.ztdf import KasTarget

__all__ = [
    "count_seeded",
    "crash_after_batch",
    "delete_seeded",
    "remember_seed_options",
    "run_seeding",
    "seeding_check",
]

_BATCH_CRASH_POINT: Final = 3  # §13.3 `<pipeline>:SEEDING:after_batch_3`

BatchHook = Callable[[int], None]


def run_seeding(facts: InstanceFacts, *, on_batch: BatchHook, progress: Callable[[int, int], None]) -> str:
    target, as_of = remember_seed_options(facts)
    present = count_seeded(facts)
    if present >= target:
        return f"{present:,} ≥ {target:,} documents, nothing to do"
    engine = create_engine_for(facts.database_url)
    batches = 0

    def report(done: int, total: int) -> None:
        nonlocal batches
        batches += 1
        progress(done, total)
        on_batch(batches)

    try:
        documents = list(seed_documents(DEFAULT_SEED, facts.code, target, as_of))
        result = write_seed(
            writer_session_factory(engine),
            inst=facts.code,
            documents=documents,
            kas_targets=[_own_target(facts, engine)],
            engine=RegopyEngine(PolicyBundle.load()),
            replace=False,
            progress=report,
        )
    except (SeedError, StoreError) as exc:
        raise PhaseError("seeding_failed", str(exc)) from exc
    finally:
        engine.dispose()
    return f"{result.written + present:,} ZTDF documents ({result.written:,} written)"


def seeding_check(facts: InstanceFacts) -> Check:
    try:
        present = count_seeded(facts)
    except StoreError as exc:
        return Check(False, exc.message)
    target = facts.seed_count
    return Check(present >= target, f"{present:,} of {target:,} seed documents")


def count_seeded(facts: InstanceFacts) -> int:
    if not facts.database_exists:
        return 0
    engine = create_engine_for(facts.database_url)
    try:
        with session_factory(engine)() as session:
            prefix = f"doc-{facts.display}-seed-%"
            return int(session.scalar(select(func.count()).where(Resource.resource_id.like(prefix))) or 0)
    except SQLAlchemyError as exc:  # unreachable, or created but not migrated yet (a deploy is running)
        raise DatabaseUnavailableError(
            f"the documents of {facts.display} cannot be counted: {exc.__class__.__name__}"
        ) from exc
    finally:
        engine.dispose()


def crash_after_batch(crash_point: Callable[[str], None]) -> BatchHook:
    def hook(batch: int) -> None:
        if batch == _BATCH_CRASH_POINT:
            crash_point("after_batch_3")

    return hook


def _own_target(facts: InstanceFacts, engine: Engine) -> KasTarget:
    kas_id = catalog.kas_id(facts.code)
    with session_factory(engine)() as session:
        query = select(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id, KasRegistryKey.status == "active")
        key = session.scalars(query).first()
    if key is None:
        raise PhaseError("seeding_failed", f"{kas_id} has no active key; run the KAS phase first")
    return KasTarget(url=facts.kas_url, kid=key.kid, public_key_pem=key.public_key_pem.encode())


def remember_seed_options(facts: InstanceFacts) -> tuple[int, dt.datetime]:
    """Record the effective target and as-of (INITIALIZATION and SEEDING), so resumed runs reuse them."""
    target, as_of = facts.seed_count, _as_of(facts)
    state = {"target": target, "seed": DEFAULT_SEED, "as_of": as_of.isoformat()}
    temporary = facts.seed_state_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state) + "\n", encoding="utf-8")
    temporary.replace(facts.seed_state_path)
    return target, as_of


def _as_of(facts: InstanceFacts) -> dt.datetime:
    """DIVE_SEED_AS_OF, else the as-of of the last SEEDING (a resumed run reuses it), else today 00:00 UTC."""
    raw = facts.environ.get("DIVE_SEED_AS_OF") or facts.seed_state().get("as_of")
    if isinstance(raw, str) and raw:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def delete_seeded(facts: InstanceFacts) -> int:
    """`seed --reset`: delete the instance's seeded documents (abac's `--replace`); returns how many."""
    engine = create_engine_for(facts.database_url)
    try:
        with writer_session_factory(engine).begin() as session:
            ids = list(session.scalars(select(Resource.resource_id).where(Resource.resource_id.like(_prefix(facts)))))
            for resource_id in ids:
                resource = session.get(Resource, resource_id)
                if resource is not None:
                    session.delete(resource)
        return len(ids)
    finally:
        engine.dispose()


def _prefix(facts: InstanceFacts) -> str:
    return f"doc-{facts.display}-seed-%"
