"""The idp's collaborators in one object, built once by the app and handed to every flow."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dive.idp.broker.partners import PartnerClient
from dive.idp.clock import Clock
from dive.idp.metrics import IdpMetrics
from dive.idp.model import Realm, User
from dive.idp.passwords import PasswordHasher
from dive.idp.repository import Directory
from dive.idp.session_store import SessionStore
from dive.idp.settings import IdpSettings
from dive.idp.signing import RealmKeys

__all__ = ["IdpCore"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class IdpCore:
    settings: IdpSettings
    directory: Directory
    store: SessionStore
    hasher: PasswordHasher
    keys: RealmKeys
    partners: PartnerClient
    metrics: IdpMetrics
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    def now_s(self) -> int:
        return int(self.clock.now().timestamp())

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def issuer(self, realm: Realm) -> str:
        return self.settings.issuer(realm.name)

    def visible_at(self) -> datetime:
        """The flows see a client or IdP whose `visible_at` has passed (test propagation delay, #27)."""
        return self.now()

    def change_visible_from(self) -> datetime:
        """When a change written now becomes visible to the flows: now plus the test propagation delay."""
        return self.now() + timedelta(seconds=self.settings.propagation_delay_s)

    def roles_of(self, user: User) -> list[str]:
        return [r["name"] for r in self.directory.user_roles(user.id)]

    def event(self, realm: Realm, event_type: str, **fields: Any) -> None:
        """Record a Keycloak event (§A.9) and log it; never with passwords or codes."""
        partner = (fields.get("details") or {}).get("identity_provider") or "local"
        self.metrics.event(realm.name, event_type, idp=partner, error=fields.get("error") or "")
        if realm.setting("eventsEnabled"):
            self.store.record_event(realm.id, event_type, time_ms=self.now_ms(), **fields)
        log.info("idp event", extra={"realm": realm.name, "event_type": event_type, "error": fields.get("error")})
