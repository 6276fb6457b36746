"""Repository of the directory objects (realms, users, credentials, roles, clients, identity providers,
mappers, links, signing keys) over the store's SQLAlchemy models. Rows become the plain types of
`dive.idp.model`; secrets are sealed with the data-protection key before they are written."""

from __future__ import annotations

from dive.idp.repository.accounts import AccountRepository
from dive.idp.repository.base import IdentityProvider, OtpCredential, UserQuery, new_id
from dive.idp.repository.federation import FederationRepository
from dive.idp.repository.signing import SigningKeyRepository

__all__ = ["Directory", "IdentityProvider", "OtpCredential", "UserQuery", "new_id"]


class Directory(AccountRepository, FederationRepository, SigningKeyRepository):
    """One object over every directory table; each base class owns one group of tables."""
