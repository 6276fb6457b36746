"""The KAS registry as the api reads it (spec/ztdf-kas.md §6.2, §6.4, §9; CONSISTENCY #14, #18, #19).

`kas_registry.url` is the only KAS URL used; the allow-list and the writer's targets are re-read whenever
`registry_version` changes, so a suspended KAS stops receiving tokens within 5 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.ztdf import KasTarget

__all__ = ["KasDirectory", "KasSnapshot"]

HUB = "usa"


@dataclass(frozen=True)
class KasSnapshot:
    version: int | None
    approved_urls: tuple[str, ...]
    targets: dict[str, KasTarget]  # by lower-case instance code: approved entries with an active key


class KasDirectory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.snapshot = KasSnapshot(None, (), {})

    def reload(self, version: int | None = None) -> None:
        """Blocking; called by the registry feed on every new `registry_version`."""
        with self._sessions() as session:
            entries = list(session.scalars(select(KasRegistryEntry).where(KasRegistryEntry.status == "approved")))
            keys = {
                key.kas_id: key
                for key in session.scalars(select(KasRegistryKey).where(KasRegistryKey.status == "active"))
            }
        targets = {
            entry.instance_code: KasTarget(
                url=entry.url, kid=keys[entry.kas_id].kid, public_key_pem=keys[entry.kas_id].public_key_pem.encode()
            )
            for entry in entries
            if entry.kas_id in keys
        }
        urls = tuple(url for entry in entries for url in (entry.url, entry.internal_url) if url)
        self.snapshot = KasSnapshot(version, urls, targets)

    def targets_for(self, owner: str, releasability: Sequence[str]) -> list[KasTarget] | None:
        """§6.2 steps 1–2: the owner's KAS, plus the hub's copy for a coalition document; None without the owner's."""
        owner = owner.lower()
        own = self.snapshot.targets.get(owner)
        if own is None:
            return None
        targets = [own]
        hub = self.snapshot.targets.get(HUB)
        if owner != HUB and hub is not None and any(code.upper() != owner.upper() for code in releasability):
            targets.append(hub)
        return targets

    def own_url(self, code: str) -> str | None:
        target = self.snapshot.targets.get(code.lower())
        return target.url if target is not None else None
