"""The registration side of `nuke` (spec/orchestration.md §10): a nuked spoke leaves the hub's registry (record,
links, matrix rows, its KAS entry and keys, a new `registry_version`) and the hub realm's half of its links; with
`--keep-data` a kept instance database loses every registration and link, so a redeploy federates afresh."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from dive import catalog
from dive.federation import FederationError, LocalFederation, remove_realm_half
from dive.federation.records import instance_session
from dive.store import FederationRegistryRepository, StoreError
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.store.models.registry import FederationLink, FederationMatrixEntry, FederationSpoke

__all__ = ["clear_registrations", "remove_spoke_from_hub"]


def remove_spoke_from_hub(home: Path, environ: Mapping[str, str], code: str) -> list[str]:
    """Delete spoke `code` from the local hub (realm half first, then the registry); returns what remains."""
    federation = LocalFederation(home, environ)
    if not federation.has_database(catalog.HUB):
        return []
    remaining = []
    if federation.admin_password(catalog.HUB) is not None:
        try:
            with federation.http() as http:
                remove_realm_half(federation.side(catalog.HUB, http), federation.partner(code))
        except FederationError as exc:
            remaining.append(f"hub realm half of the {code.upper()} links ({exc})")
    try:
        with instance_session(federation.database_url(catalog.HUB)) as session:
            _delete_partner(session, code)
    except StoreError as exc:
        remaining.append(f"hub registry record of {code.upper()} ({exc.message})")
    return remaining


def clear_registrations(database_url: str) -> None:
    """Every partner record, link, matrix row and partner KAS entry of a kept instance database."""
    with instance_session(database_url) as session:
        session.execute(delete(FederationLink))
        session.execute(delete(FederationMatrixEntry))
        session.execute(delete(FederationSpoke))
        partners = select(KasRegistryEntry.kas_id).where(KasRegistryEntry.is_local.is_(False))
        session.execute(delete(KasRegistryKey).where(KasRegistryKey.kas_id.in_(partners)))
        session.execute(delete(KasRegistryEntry).where(KasRegistryEntry.is_local.is_(False)))
        FederationRegistryRepository().bump_version(session)


def _delete_partner(session: Session, code: str) -> None:
    repository = FederationRegistryRepository()
    repository.delete_spoke(session, code)
    session.execute(
        delete(FederationLink).where(or_(FederationLink.source_code == code, FederationLink.target_code == code))
    )
    session.execute(
        delete(FederationMatrixEntry).where(
            or_(FederationMatrixEntry.owner_code == code, FederationMatrixEntry.partner_code == code)
        )
    )
    kas_id = catalog.kas_id(code)
    session.execute(delete(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id))
    session.execute(delete(KasRegistryEntry).where(KasRegistryEntry.kas_id == kas_id))
    repository.bump_version(session)
