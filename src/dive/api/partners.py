"""The partner instances this api federates with (identity-api-ui §B.6, §B.7): `approved` registry records with an
`apiUrl`, re-read whenever `registry_version` changes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from dive.store import FederationRegistryRepository

__all__ = ["Partner", "PartnerDirectory", "search_url"]


@dataclass(frozen=True)
class Partner:
    code: str  # upper case
    api_url: str


def search_url(api_url: str) -> str:
    """`<apiUrl>/api/resources/search`; registry records may carry the base URL with or without `/api`."""
    base = api_url.rstrip("/")
    return f"{base.removesuffix('/api')}/api/resources/search"


class PartnerDirectory:
    def __init__(self, sessions: sessionmaker[Session], own_code: str) -> None:
        self._sessions, self._own = sessions, own_code
        self.partners: dict[str, Partner] = {}

    def reload(self) -> None:
        with self._sessions() as session:
            spokes = FederationRegistryRepository().list_spokes(session)
        self.partners = {
            spoke.code.upper(): Partner(spoke.code.upper(), spoke.api_url)
            for spoke in spokes
            if spoke.status == "approved" and spoke.api_url and spoke.code.upper() != self._own
        }
