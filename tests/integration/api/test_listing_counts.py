"""Cached totals and facets (identity-api-ui §B.5.1): an upload, or a document stored by another writer, is counted
in the very next list, not only once the 30 s the cache may keep a count have passed."""

from __future__ import annotations

import httpx

from dive.api.documents import NewDocument, encrypt_document, store_document
from dive.api.kas_registry import KasDirectory
from dive.seed.documents import seed_label
from dive.store import create_engine_for, instance_database_url, session_factory, writer_session_factory

from .conftest import ApiDeployment
from .deployment import AS_OF

RESTRICTED_COUNT = {"classification": "RESTRICTED", "pageSize": "1", "facets": "true"}
BEHIND_INDEX = 9001  # a RESTRICTED seed label releasable to USA without COIs: the default token reads it


def _counts(client: httpx.Client, headers: dict[str, str]) -> tuple[int, int]:
    body = client.get("/api/resources", headers=headers, params=RESTRICTED_COUNT).json()
    restricted = next(e["count"] for e in body["facets"]["classification"] if e["value"] == "RESTRICTED")
    return body["total"], restricted


def _store_behind_the_api(deployment: ApiDeployment) -> str:
    """A document written straight into the store, as the seeder or another api worker would."""
    engine = create_engine_for(instance_database_url(deployment.home, "usa"))
    try:
        kas = KasDirectory(session_factory(engine))
        kas.reload()
        doc = seed_label("dive", "USA", BEHIND_INDEX, AS_OF)
        document = NewDocument(
            resource_id=doc.resource_id,
            instance="USA",
            title=doc.title,
            summary=doc.summary,
            label=doc.label,
            ztdf_label=doc.ztdf_label,
            file_type="txt",
            mime_type="text/plain",
        )
        targets = kas.targets_for("usa", list(doc.ztdf_label.releasable_to))
        archive, manifest = encrypt_document(document, doc.plaintext, targets)
        with writer_session_factory(engine).begin() as session:
            store_document(session, document, archive=archive, manifest=manifest, size_bytes=len(doc.plaintext))
    finally:
        engine.dispose()
    return document.resource_id


def test_an_upload_is_counted_in_the_total_and_facets_of_the_next_list(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    data = {"title": "Counted memo", "classification": "RESTRICTED", "releasabilityTo": ["USA"]}
    with deployment.api.client(timeout=30) as client:
        total, restricted = _counts(client, headers)
        assert _counts(client, headers) == (total, restricted)  # now cached
        created = client.post("/api/resources", headers=headers, files={"file": ("memo.txt", b"counted")}, data=data)
        assert created.status_code == 201, created.text
        assert _counts(client, headers) == (total + 1, restricted + 1)


def test_a_document_stored_by_another_writer_is_counted_in_the_next_list(deployment: ApiDeployment):
    headers = {"Authorization": f"Bearer {deployment.issuer.token()}"}
    with deployment.api.client(timeout=30) as client:
        total, restricted = _counts(client, headers)
        assert _counts(client, headers) == (total, restricted)
        stored = _store_behind_the_api(deployment)
        assert _counts(client, headers) == (total + 1, restricted + 1)
        assert client.get(f"/api/resources/{stored}", headers=headers).status_code == 200
