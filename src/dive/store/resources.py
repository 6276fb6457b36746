"""The resource repository: documents with their label denormalised for the search pushdown (abac §9.2).

The caller computes the derived label columns with `dive.domain` (the same functions as the policy) and sets them on
the `Resource`; this repository writes them together with the join rows, in one flush, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dive.store.errors import RecordInvalidError
from dive.store.models.resources import Resource, ResourceCoi, ResourcePayload, ResourceReleasability

__all__ = ["ResourceRepository"]

# Row identity and history stay with the stored row when a document is replaced.
_KEPT_ON_REPLACE = frozenset({"pk", "created_at"})


class ResourceRepository:
    def upsert(
        self, session: Session, resource: Resource, releasability: Iterable[str], cois: Iterable[str]
    ) -> Resource:
        """Insert `resource` or replace the stored one with the same `resource_id`; returns the stored row.

        `releasability` and `cois` are the label's `releasabilityTo` and `COI` (duplicates collapse to one row);
        `coi_count` is set from them. A `resource.payload` replaces the stored archive.
        """
        countries, tags = sorted(set(releasability)), sorted(set(cois))
        resource.coi_count = len(tags)
        stored = self.get(session, resource.resource_id)
        if stored is None:
            session.add(resource)
            stored = resource
        else:
            _copy_into(stored, resource)
        _flush(session, resource.resource_id)
        session.execute(delete(ResourceReleasability).where(ResourceReleasability.resource_pk == stored.pk))
        session.execute(delete(ResourceCoi).where(ResourceCoi.resource_pk == stored.pk))
        if countries:
            session.execute(
                insert(ResourceReleasability), [{"resource_pk": stored.pk, "country": c} for c in countries]
            )
        if tags:
            session.execute(insert(ResourceCoi), [{"resource_pk": stored.pk, "coi": coi} for coi in tags])
        return stored

    def get(self, session: Session, resource_id: str) -> Resource | None:
        return session.scalar(select(Resource).where(Resource.resource_id == resource_id))

    def releasability_of(self, session: Session, resource: Resource) -> list[str]:
        statement = select(ResourceReleasability.country).where(ResourceReleasability.resource_pk == resource.pk)
        return sorted(session.scalars(statement))

    def cois_of(self, session: Session, resource: Resource) -> list[str]:
        return sorted(session.scalars(select(ResourceCoi.coi).where(ResourceCoi.resource_pk == resource.pk)))

    def delete(self, session: Session, resource_id: str) -> bool:
        """Deletes the document, its archive and its join rows (foreign keys cascade)."""
        deleted = session.execute(delete(Resource).where(Resource.resource_id == resource_id)).rowcount
        return deleted > 0

    def set_integrity(self, session: Session, resource_id: str, ok: bool) -> None:
        """Records a reader's integrity result (CONSISTENCY #12); it feeds the pushdown's `integrity_ok`."""
        session.execute(update(Resource).where(Resource.resource_id == resource_id).values(integrity_ok=ok))


def _copy_into(stored: Resource, replacement: Resource) -> None:
    for attribute in Resource.__mapper__.column_attrs:
        value = getattr(replacement, attribute.key)
        if attribute.key in _KEPT_ON_REPLACE or (value is None and not attribute.columns[0].nullable):
            continue  # unset NOT NULL attributes keep the stored value (`updated_at` then takes its onupdate)
        setattr(stored, attribute.key, value)
    if replacement.payload is not None:
        archive = replacement.payload.archive
        if stored.payload is None:
            stored.payload = ResourcePayload(archive=archive)
        else:
            stored.payload.archive = archive


def _flush(session: Session, resource_id: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise RecordInvalidError(f"resource {resource_id} violates a constraint: {exc.orig}") from exc
