"""Building a test instance: KAS keys, the KAS process, seeded documents and registry rows, then the api process."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from dive.api.documents import NewDocument, encrypt_document, store_document
from dive.api.kas_registry import KasDirectory
from dive.seed.documents import seed_label
from dive.store import (
    FederationRegistryRepository,
    create_engine_for,
    instance_database_url,
    session_factory,
    writer_session_factory,
)
from dive.store.models import FederationSpoke
from dive.store.models.kas import KasRegistryEntry
from harness import ServiceProcess, start_service

AS_OF = datetime(2026, 1, 15, tzinfo=UTC)


def dive(home: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dive", *args, "--home", str(home)], check=True, capture_output=True)


def start_kas(home: Path, code: str, issuer_url: str) -> ServiceProcess:
    """The instance's KAS with a fresh key; its registry entry points at the port it really listens on."""
    dive(home, "kas", "rotate", code)
    kas = start_service("kas", code, home=home, env={"DIVE_KAS_OWN_ISSUER": issuer_url})
    with writer_session_factory(engine := create_engine_for(instance_database_url(home, code))).begin() as session:
        session.execute(update(KasRegistryEntry).values(url=f"https://localhost:{kas.port}/kas"))
    engine.dispose()
    return kas


def seed(home: Path, code: str, count: int) -> list[str]:
    """Seed documents 1..count (abac §7), encrypted to the instance's KAS, stored as the api stores uploads."""
    engine = create_engine_for(instance_database_url(home, code))
    kas = KasDirectory(session_factory(engine))
    kas.reload()
    ids = []
    try:
        with writer_session_factory(engine).begin() as session:
            for i in range(1, count + 1):
                doc = seed_label("dive", code, i, AS_OF)
                document = NewDocument(
                    resource_id=doc.resource_id,
                    instance=code.upper(),
                    title=doc.title,
                    summary=doc.summary,
                    label=doc.label,
                    ztdf_label=doc.ztdf_label,
                    file_type="txt",
                    mime_type="text/plain",
                )
                targets = kas.targets_for(code, list(doc.ztdf_label.releasable_to))
                assert targets, "the KAS registry has no key"
                archive, manifest = encrypt_document(document, doc.plaintext, targets)
                store_document(session, document, archive=archive, manifest=manifest, size_bytes=len(doc.plaintext))
                ids.append(doc.resource_id)
    finally:
        engine.dispose()
    return ids


def register_partner(home: Path, own: str, partner: str, *, issuer: str, api_url: str) -> None:
    engine = create_engine_for(instance_database_url(home, own))
    try:
        with writer_session_factory(engine).begin() as session:
            registry = FederationRegistryRepository()
            registry.save_spoke(
                session,
                FederationSpoke(
                    code=partner.lower(),
                    spoke_id=f"spoke-{partner.lower()}-test",
                    role="spoke",
                    kind="local",
                    status="approved",
                    api_url=api_url,
                    web_url="https://localhost:1",
                    idp_url="https://localhost:1",
                    kas_url="https://localhost:1/kas",
                    issuer=issuer,
                    jwks_uri=f"{issuer}/protocol/openid-connect/certs",
                ),
            )
            registry.set_matrix_pair(session, own, partner, source="cli")
    finally:
        engine.dispose()


def start_api(home: Path, code: str, issuer_url: str, **env: str) -> ServiceProcess:
    return start_service(
        "api", code, home=home, env={"DIVE_API_OWN_ISSUER": issuer_url, "DIVE_API_WORKERS": "1", **env}, timeout_s=60
    )
