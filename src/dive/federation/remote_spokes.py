"""The hub's view of a spoke on another host (orchestration §8.2 hub side step 0, Amendment A1): such a spoke sent
its CA (`caBundlePem`) and its own URLs at registration, so the hub links and verifies it through those, not through
this host's catalog ports."""

from __future__ import annotations

from dataclasses import dataclass

from dive import catalog
from dive.federation.local import LocalFederation
from dive.federation.partners import Partner
from dive.federation.records import instance_session
from dive.federation.remote import record_partner, trust_partner_ca, validate_ca_pem
from dive.store import FederationRegistryRepository

__all__ = ["RemoteSpoke", "remote_spoke", "trust_remote_spoke"]


@dataclass(frozen=True)
class RemoteSpoke:
    partner: Partner
    ca_pem: str


def remote_spoke(fed: LocalFederation, code: str) -> RemoteSpoke | None:
    """The registry record of `code` in this host's hub database when it came from another host, else None."""
    if not fed.has_database(catalog.HUB):
        return None
    with instance_session(fed.database_url(catalog.HUB)) as session:
        record = FederationRegistryRepository().get_spoke(session, code)
        if record is None or not record.ca_bundle_pem:
            return None
        partner = record_partner(code, record.issuer, record.api_url, record.kas_url)
        return RemoteSpoke(partner, validate_ca_pem(record.ca_bundle_pem, f"the CA {code.upper()} registered"))


def trust_remote_spoke(fed: LocalFederation, code: str) -> Partner | None:
    """Step 0 of approval: trust a remote spoke's CA (`pki/trusted/<c>.pem`, bundle rebuilt) and return the
    spoke as it described itself; None for a spoke of this host."""
    remote = remote_spoke(fed, code)
    if remote is None:
        return None
    trust_partner_ca(fed.home, code, remote.ca_pem)
    return remote.partner
