"""Writing a document to the store (identity-api-ui §B.5.6 step 5; abac §9.2; CONSISTENCY #12, #23).

One function turns a label (abac §1.2 names) and a freshly written ZTDF archive into the `resources` row with its
pushdown columns derived by `dive.domain` — the same functions the policy uses — so uploads and seeding agree.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dive.domain.coi import COI_MEMBERS
from dive.domain.countries import ISO_ALPHA3
from dive.domain.labels import derive_label_columns
from dive.store import ResourceRepository
from dive.store.models.resources import Resource, ResourcePayload
from dive.ztdf import KasTarget, Label, display_marking, write_ztdf
from dive.ztdf.manifest import manifest_to_json

__all__ = ["NewDocument", "encrypt_document", "store_document"]


@dataclass(frozen=True, kw_only=True)
class NewDocument:
    resource_id: str
    instance: str  # upper case, the owner
    title: str
    summary: str | None
    label: Mapping[str, object]  # abac §1.2 names (CONSISTENCY #36)
    ztdf_label: Label
    file_type: str | None
    mime_type: str
    created_by: str | None = None


def encrypt_document(
    document: NewDocument, plaintext: bytes, targets: Sequence[KasTarget]
) -> tuple[bytes, dict[str, Any]]:
    """The ZTDF archive (fresh DEK, KAOs for `targets`) and its manifest as stored JSON."""
    sink = io.BytesIO()
    manifest = write_ztdf(
        plaintext,
        sink,
        label=document.ztdf_label,
        kas_targets=targets,
        mime_type=document.mime_type,
        resource_id=document.resource_id,
    )
    return sink.getvalue(), json.loads(manifest_to_json(manifest))


def store_document(
    session: Session,
    document: NewDocument,
    *,
    archive: bytes,
    manifest: Mapping[str, Any],
    size_bytes: int,
    valid_countries: Collection[str] = ISO_ALPHA3,
    coi_members: Mapping[str, Collection[str]] = COI_MEMBERS,
) -> Resource:
    """Insert (or replace) the document; the writer's integrity result is true (CONSISTENCY #12)."""
    columns = derive_label_columns(document.label, valid=valid_countries, coi_members=coi_members)
    kas_urls = [kao.get("url") for kao in manifest.get("encryptionInformation", {}).get("keyAccess", [])]
    resource = Resource(
        resource_id=document.resource_id,
        instance_code=document.instance.lower(),
        title=document.title,
        summary=document.summary,
        classification=str(document.label.get("classification")),
        display_marking=display_marking(document.ztdf_label),
        label=dict(document.label),
        encrypted=True,
        file_type=document.file_type,
        mime_type=document.mime_type,
        size_bytes=size_bytes,
        kao_count=len(kas_urls),
        kas_urls=[url for url in kas_urls if isinstance(url, str)],
        manifest=dict(manifest),
        created_by=document.created_by,
        classification_rank=columns.classification_rank,
        coi_operator=columns.coi_operator,
        has_us_only=columns.has_us_only,
        creation_ts=columns.creation_ts,
        releasable_to_industry=columns.releasable_to_industry,
        label_ok=columns.label_ok,
        label_ok_strict=columns.label_ok_strict,
        integrity_ok=True,
        payload=ResourcePayload(archive=archive),
    )
    return ResourceRepository().upsert(session, resource, columns.releasability, columns.cois)
