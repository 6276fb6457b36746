"""Spoke-side registry, trust and KAS-registry sync (orchestration §8.4, C6–C7; CONSISTENCY #9, #14).

Both functions run inside the caller's transaction on the spoke's instance database; the repository bumps
`registry_version`, so the spoke's services pick the change up within 5 s (CONSISTENCY #18)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dive import catalog
from dive.federation.errors import RegistrationError
from dive.federation.records import set_link_rows
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.store.models.registry import FederationSpoke

__all__ = ["KasSyncResult", "sync_hub_record", "sync_kas_registry"]


@dataclass(frozen=True)
class KasSyncResult:
    upserted: tuple[str, ...]
    deleted: tuple[str, ...]


def sync_hub_record(session: Session, own_code: str, metadata: Mapping[str, Any]) -> FederationSpoke:
    """C6: the hub's record (role hub, approved; makes its issuer trusted here), both matrix rows, the link rows."""
    try:
        issuer, api_url = str(metadata["issuer"]), str(metadata["apiUrl"])
        web_url, kas_url, jwks_uri = str(metadata["webUrl"]), str(metadata["kasUrl"]), str(metadata["jwksUri"])
    except KeyError as exc:
        raise RegistrationError(f"the hub metadata lacks {exc}; is the hub api up to date?") from exc
    repository = FederationRegistryRepository()
    hub = repository.get_spoke(session, catalog.HUB) or FederationSpoke(
        code=catalog.HUB, spoke_id=f"spoke-usa-{secrets.token_hex(4)}", role="hub", kind="remote"
    )
    hub.name, hub.status, hub.source = str(metadata.get("name") or "USA"), "approved", "registration"
    hub.api_url, hub.web_url, hub.kas_url, hub.issuer, hub.jwks_uri = api_url, web_url, kas_url, issuer, jwks_uri
    hub.idp_url = issuer.split("/realms/")[0]
    hub.trust_level, hub.max_classification = hub.trust_level or "national", hub.max_classification or "TOP_SECRET"
    saved = repository.save_spoke(session, hub)
    repository.set_matrix_pair(session, own_code, catalog.HUB, source="approval")
    set_link_rows(session, catalog.HUB, own_code, "PENDING")
    return saved


def sync_kas_registry(session: Session, own_code: str, kas_servers: Sequence[Mapping[str, Any]]) -> KasSyncResult:
    """C7: upsert every approved KAS but our own with `is_local=false`; delete non-local rows no longer listed."""
    own_id = catalog.kas_id(own_code)
    listed = {str(s["kasId"]): s for s in kas_servers if s.get("status") == "approved" and s.get("kasId") != own_id}
    for kas_id, server in listed.items():
        entry = session.get(KasRegistryEntry, kas_id) or KasRegistryEntry(kas_id=kas_id)
        entry.instance_code, entry.url = str(server["instanceCode"]).lower(), str(server["kasUrl"])
        entry.status, entry.is_local = "approved", False
        session.add(entry)
        session.execute(delete(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id))
        session.flush()
        session.add_all(_key_rows(kas_id, server.get("publicKeys") or []))
    stale = [
        entry.kas_id
        for entry in session.scalars(select(KasRegistryEntry).where(KasRegistryEntry.is_local.is_(False)))
        if entry.kas_id not in listed and entry.kas_id != own_id
    ]
    for kas_id in stale:
        session.execute(delete(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id))
        session.execute(delete(KasRegistryEntry).where(KasRegistryEntry.kas_id == kas_id))
    session.flush()
    FederationRegistryRepository().bump_version(session)
    return KasSyncResult(tuple(sorted(listed)), tuple(sorted(stale)))


def _key_rows(kas_id: str, items: Sequence[Mapping[str, Any]]) -> list[KasRegistryKey]:
    rows = []
    for item in items:
        pem, fingerprint = str(item.get("publicKey") or ""), str(item.get("fingerprint") or "")
        rows.append(
            KasRegistryKey(
                kas_id=kas_id,
                kid=str(item["kid"]),
                algorithm=str(item.get("alg") or "rsa:2048"),
                public_key_pem=pem,
                fingerprint=fingerprint,
                status=str(item.get("status") or "active"),
            )
        )
    return rows
