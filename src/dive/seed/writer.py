"""Writing seed documents into an instance database as ZTDF resources (abac §7, §9.2; orchestration §4.8).

Per document: the strict label check through the policy engine (a failure aborts: it is a bug, abac §7.4), a ZTDF
with a fresh DEK and the KAOs of ztdf-kas §6.2, the §9.2 columns, and one upsert. Each batch is one short
transaction, so a crash loses at most one batch and a rerun resumes. Label checks and encryption run in a thread
pool, one batch ahead of the writes: regopy (ctypes) and `cryptography` release the GIL, so threads use the cores
without the pickling a process pool would need for the engine.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dive.domain.coi import COI_MEMBERS
from dive.domain.countries import ISO_ALPHA3
from dive.domain.labels import derive_label_columns
from dive.policy.engine import PolicyEngine
from dive.seed.documents import SeedDocument
from dive.seed.errors import SeedLabelRejectedError, SeedOptionsError
from dive.seed.templates import HUB
from dive.store.models.resources import Resource, ResourcePayload
from dive.store.resources import ResourceRepository
from dive.ztdf import KasTarget, display_marking, write_ztdf
from dive.ztdf.manifest import Manifest, manifest_to_json

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_THREADS", "SeedResult", "kas_targets_for", "write_seed"]

DEFAULT_BATCH_SIZE: Final = 250  # orchestration §4.8
DEFAULT_THREADS: Final = min(4, os.cpu_count() or 1)  # orchestration §4.8: min(4, cpu count) workers
_MIME_TYPE: Final = "text/plain; charset=utf-8"
_FILE_TYPE: Final = "txt"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SeedResult:
    written: int  # inserted or (with replace) rewritten
    skipped: int  # already present and kept
    elapsed_s: float

    @property
    def documents_per_second(self) -> float:
        """Written documents per second of wall time (skipped ones cost a lookup only)."""
        return self.written / self.elapsed_s if self.elapsed_s > 0 else 0.0


def kas_targets_for(
    document: SeedDocument, owner_targets: Sequence[KasTarget], hub_target: KasTarget | None
) -> list[KasTarget]:
    """ztdf-kas §6.2 (CONSISTENCY #23): the owner's KAS always; the hub's too when the owner is not the hub and the
    document is releasable beyond the owner. The caller passes `hub_target` only when the hub KAS is registered."""
    targets = list(owner_targets)
    coalition = any(country != document.instance for country in document.ztdf_label.releasable_to)
    if hub_target is not None and document.instance != HUB and coalition:
        targets.append(hub_target)
    return targets


def write_seed(
    session_factory: sessionmaker[Session],
    *,
    inst: str,
    documents: Sequence[SeedDocument],
    kas_targets: Sequence[KasTarget],
    engine: PolicyEngine,
    replace: bool,
    hub_kas_target: KasTarget | None = None,
    coi_members: Mapping[str, Collection[str]] = COI_MEMBERS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int = DEFAULT_THREADS,
    progress: Progress | None = None,
) -> SeedResult:
    """Store `documents` of instance `inst`; without `replace` existing ids are skipped, with it they are rewritten.

    `kas_targets` are the owner KAS's targets (every document); `coi_members` is the registry's COI table, used for
    the stored `label_ok_strict` column. Raises `SeedLabelRejectedError` when the engine rejects a label; batches
    before the rejected one stay stored.
    """
    code = _checked_options(inst, documents, kas_targets, batch_size, threads)

    def build(document: SeedDocument) -> _Row:
        return _build_row(document, code, engine, kas_targets_for(document, kas_targets, hub_kas_target), coi_members)

    started = time.perf_counter()
    written = skipped = 0
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dive-seed")
    try:
        submitted = (_submit(pool, session_factory, batch, build, replace) for batch in _batches(documents, batch_size))
        for pending in _one_ahead(submitted):
            rows = [future.result() for future in pending.rows]
            _store(session_factory, rows)
            written, skipped = written + len(rows), skipped + pending.size - len(rows)
            if progress is not None:
                progress(written + skipped, len(documents))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return SeedResult(written, skipped, time.perf_counter() - started)


@dataclass(frozen=True)
class _Pending:
    size: int
    rows: list[Future[_Row]]


def _submit(
    pool: ThreadPoolExecutor,
    session_factory: sessionmaker[Session],
    batch: Sequence[SeedDocument],
    build: Callable[[SeedDocument], _Row],
    replace: bool,
) -> _Pending:
    existing = set() if replace else _existing_ids(session_factory, [d.resource_id for d in batch])
    return _Pending(len(batch), [pool.submit(build, d) for d in batch if d.resource_id not in existing])


def _one_ahead(items: Iterable[_Pending]) -> Iterator[_Pending]:
    """Yield each item only once the next one has been started, so building overlaps writing."""
    iterator = iter(items)
    current = next(iterator, None)
    if current is None:
        return
    for upcoming in iterator:
        yield current
        current = upcoming
    yield current


@dataclass(frozen=True)
class _Row:
    resource: Resource
    releasability: tuple[str, ...]
    cois: tuple[str, ...]


def _build_row(
    document: SeedDocument,
    code: str,
    engine: PolicyEngine,
    targets: Sequence[KasTarget],
    coi_members: Mapping[str, Collection[str]],
) -> _Row:
    _check_label(document, engine)
    archive = io.BytesIO()
    manifest = write_ztdf(
        document.plaintext,
        archive,
        label=document.ztdf_label,
        kas_targets=targets,
        mime_type=_MIME_TYPE,
        resource_id=document.resource_id,
    )
    # The strict check above accepted every code on the label, so the owner's code (a registered test code maybe)
    # is valid here too; every other code a template uses is ISO.
    columns = derive_label_columns(document.label, valid=ISO_ALPHA3 | {document.instance}, coi_members=coi_members)
    resource = Resource(
        resource_id=document.resource_id,
        instance_code=code,
        title=document.title,
        summary=document.summary,
        classification=str(document.label["classification"]),
        display_marking=display_marking(document.ztdf_label),
        label=dict(document.label),
        encrypted=True,
        file_type=_FILE_TYPE,
        mime_type=_MIME_TYPE,
        size_bytes=len(document.plaintext),
        kao_count=len(manifest.key_access),
        kas_urls=_kas_urls(manifest),
        manifest=json.loads(manifest_to_json(manifest)),
        created_by=None,
        classification_rank=columns.classification_rank,
        coi_count=columns.coi_count,
        coi_operator=columns.coi_operator,
        has_us_only=columns.has_us_only,
        creation_ts=columns.creation_ts,
        releasable_to_industry=columns.releasable_to_industry,
        label_ok=columns.label_ok,
        label_ok_strict=columns.label_ok_strict,
        integrity_ok=True,  # written just now by our own writer
        payload=ResourcePayload(archive=archive.getvalue()),
    )
    return _Row(resource, columns.releasability, columns.cois)


def _check_label(document: SeedDocument, engine: PolicyEngine) -> None:
    check = engine.check_label(document.label, strict=True)
    if not check.valid:
        raise SeedLabelRejectedError(
            f"seed label of {document.resource_id} (template {document.template}) fails the strict label check: "
            f"{'; '.join(check.violations)}. This is a seeder bug; report it with the seed and as-of time"
        )


def _kas_urls(manifest: Manifest) -> list[str]:
    return list(dict.fromkeys(kao.url for kao in manifest.key_access))


def _existing_ids(session_factory: sessionmaker[Session], ids: Sequence[str]) -> set[str]:
    with session_factory() as session, session.begin():
        return set(session.scalars(select(Resource.resource_id).where(Resource.resource_id.in_(ids))))


def _store(session_factory: sessionmaker[Session], rows: Sequence[_Row]) -> None:
    if not rows:
        return
    repository = ResourceRepository()
    with session_factory() as session, session.begin():
        for row in rows:
            repository.upsert(session, row.resource, row.releasability, row.cois)


def _batches(documents: Sequence[SeedDocument], size: int) -> Iterator[Sequence[SeedDocument]]:
    for start in range(0, len(documents), size):
        yield documents[start : start + size]


def _checked_options(
    inst: str, documents: Sequence[SeedDocument], kas_targets: Sequence[KasTarget], batch_size: int, threads: int
) -> str:
    """The instance code as stored (lower case, orchestration §5.2)."""
    if batch_size < 1:
        raise SeedOptionsError(f"batch size {batch_size} is not positive; use the default {DEFAULT_BATCH_SIZE}")
    if threads < 1:
        raise SeedOptionsError(f"thread count {threads} is not positive; use the default {DEFAULT_THREADS}")
    if not kas_targets:
        raise SeedOptionsError(f"no KAS target for {inst}; register the instance's KAS key before seeding")
    foreign = next((d.resource_id for d in documents if d.instance != inst.upper()), None)
    if foreign is not None:
        raise SeedOptionsError(f"document {foreign} does not belong to instance {inst.upper()}")
    return inst.lower()
