"""Per-realm key ring over the repository: ensures an active key, rotates (§A.2), caches unsealed keys."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from dive.idp.errors import IdpError
from dive.idp.keys import SigningKey, plan_rotation
from dive.idp.model import Realm
from dive.idp.repository import Directory

__all__ = ["RealmKeys"]

_CACHE_S = 1.0  # other workers' rotations become visible within a second (§A.9)


class RealmKeys:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._cache: dict[str, tuple[float, list[SigningKey]]] = {}
        self._lock = threading.Lock()

    def all(self, realm: Realm) -> list[SigningKey]:
        cached = self._cache.get(realm.id)
        if cached and time.monotonic() - cached[0] < _CACHE_S:
            return cached[1]
        keys = self._directory.signing_keys(realm.id)
        if cached:  # keep already-parsed key objects (RSA import is the costly part)
            known = {k.kid: k for k in cached[1]}
            keys = [known[k.kid] if k.kid in known and known[k.kid].status == k.status else k for k in keys]
        self._cache[realm.id] = (time.monotonic(), keys)
        return keys

    def active(self, realm: Realm) -> SigningKey:
        for key in self.all(realm):
            if key.status == "ACTIVE":
                return key
        raise IdpError("signing_key_missing", f"realm {realm.name} has no active signing key; restart the idp")

    def ensure(self, realm: Realm, now: datetime, *, force: bool = False) -> SigningKey:
        """Create the first key, rotate when due (or forced) and drop passive keys past retention."""
        with self._lock:
            upserts, deletes = plan_rotation(
                self._directory.signing_keys(realm.id),
                now=now,
                rotation_days=int(realm.attribute("dive.keyRotationDays") or 90),
                retention_hours=int(realm.attribute("dive.keyRetentionHours") or 24),
                force=force,
            )
            if upserts or deletes:
                self._directory.save_signing_keys(realm.id, upserts, deletes)
            self._cache.pop(realm.id, None)
        return self.active(realm)
