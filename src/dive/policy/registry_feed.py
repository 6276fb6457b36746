"""The one loader of the dynamic `data.dive` (CONSISTENCY #8): every engine host (pdp, api, kas) builds it from its
own instance database at start and again whenever `registry_version` changes, checked at least every 5 s (#18).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import anyio
from sqlalchemy.orm import Session, sessionmaker

from dive.domain.countries import ISO_ALPHA3
from dive.policy.bundle import RegistryData, build_data
from dive.policy.engine import PolicyEngine
from dive.store.registry import FederationRegistryRepository, RegistrySnapshot

__all__ = ["REGISTRY_POLL_S", "RegistryFeed", "poll", "registry_data_from"]

REGISTRY_POLL_S: Final = 5.0

log = logging.getLogger(__name__)


def registry_data_from(snapshot: RegistrySnapshot, *, own_code: str, own_issuer: str, production: bool) -> RegistryData:
    """The dynamic part of `data.dive` for the instance `own_code` (upper case).

    Trusted issuers are derived, never stored: the own realm plus every approved partner. Test codes (abac D15)
    are valid countries only outside production.
    """
    issuers = {own_issuer: own_code, **{partner.issuer: partner.code for partner in snapshot.trusted_partners}}
    test_codes: tuple[str, ...] = ()
    if not production:
        own_test_code = () if own_code in ISO_ALPHA3 else (own_code,)
        test_codes = tuple(sorted({*own_test_code, *snapshot.test_codes}))
    return RegistryData(
        tenant_id=own_code,
        trusted_issuers=issuers,
        matrix={owner: list(partners) for owner, partners in snapshot.matrix.items()},
        tenants=snapshot.tenants,
        test_codes=test_codes,
        coi_members={coi: list(members) for coi, members in snapshot.coi_members.items()},
    )


@dataclass
class RegistryFeed:
    """Keeps an engine's `data.dive` in step with the instance registry."""

    sessions: sessionmaker[Session]
    engine: PolicyEngine
    static_data: dict[str, object]
    own_code: str  # upper case
    own_issuer: str
    production: bool
    on_reload: Callable[[int, str], None] | None = None  # (registry version, new policy revision)
    version: int | None = None
    _repository: FederationRegistryRepository = field(default_factory=FederationRegistryRepository, repr=False)

    def refresh(self) -> bool:
        """Reload the engine if the registry changed since the last call; True when it did (blocking I/O)."""
        with self.sessions() as session:
            current = self._repository.read_version(session)
            if current == self.version:
                return False
            snapshot = self._repository.read_policy_registry(session)
        data = registry_data_from(
            snapshot, own_code=self.own_code, own_issuer=self.own_issuer, production=self.production
        )
        self.engine.reload(data=build_data(self.static_data, data))
        self.version = snapshot.version
        log.info(
            "policy data reloaded",
            extra={"registry_version": snapshot.version, "policy_revision": self.engine.revision()},
        )
        if self.on_reload is not None:
            self.on_reload(snapshot.version, self.engine.revision())
        return True


async def poll(refresh: Callable[[], object], interval_s: float = REGISTRY_POLL_S) -> None:
    """Run the blocking `refresh` in a thread every `interval_s` until cancelled. A failed poll keeps the last
    good policy data and is retried on the next tick."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await anyio.to_thread.run_sync(refresh)
        except Exception:  # the loop must survive a database blip; the error is logged with its traceback
            log.exception("policy data refresh failed; keeping the previous policy data")
