"""Registry data the KAS reads from its instance database (CONSISTENCY #8, #18): the trusted issuers for token
verification, the dynamic `data.dive` for the embedded engine, and the key ring. All are rebuilt when
`registry_version` changes, checked at most every 5 s (key changes bump the version too, §10).

Interim copy of the shared loader `dive.policy.registry_feed`; to be folded into it once that exists.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import anyio
from sqlalchemy.orm import Session, sessionmaker

from dive.domain.countries import ISO_ALPHA3
from dive.kas.auth import TrustedIssuer
from dive.kas.errors import KasUnavailableError
from dive.kas.settings import KasSettings
from dive.policy.bundle import RegistryData
from dive.store import FederationRegistryRepository, RegistrySnapshot, StoreError
from dive.store.models.registry import FederationSpoke

__all__ = ["RegistryFeed", "RegistryState", "build_registry_data", "own_jwks_uri"]

CHECK_INTERVAL_S: Final = 5.0


def own_jwks_uri(issuer: str) -> str:
    return f"{issuer}/protocol/openid-connect/certs"


@dataclass(frozen=True)
class RegistryState:
    version: int
    issuers: Mapping[str, TrustedIssuer]
    data: RegistryData


def build_registry_data(snapshot: RegistrySnapshot, settings: KasSettings, *, production: bool) -> RegistryData:
    own = settings.instance_code
    issuers = {settings.own_issuer: own} | {p.issuer: p.code for p in snapshot.trusted_partners}
    test_codes = () if production else {own, *snapshot.test_codes} - set(ISO_ALPHA3)
    return RegistryData(
        tenant_id=own,
        trusted_issuers=issuers,
        matrix={code: list(partners) for code, partners in snapshot.matrix.items()},
        tenants=snapshot.tenants,
        test_codes=tuple(sorted(test_codes)),
        coi_members={coi: list(members) for coi, members in snapshot.coi_members.items()} or None,
    )


class RegistryFeed:
    """Polls `registry_version`; on a change, reads the registry and calls `on_change(state)` in a worker thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: KasSettings,
        *,
        production: bool,
        on_change: Callable[[RegistryState], None],
    ) -> None:
        self._sessions, self._settings, self._production = sessions, settings, production
        self._on_change = on_change
        self._repository = FederationRegistryRepository()
        self._state: RegistryState | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    def load(self) -> RegistryState:
        """Synchronous first load at start-up."""
        state = self._read()
        self._on_change(state)
        self._state, self._checked_at = state, time.monotonic()
        return state

    async def current(self) -> RegistryState:
        if self._state is not None and time.monotonic() - self._checked_at < CHECK_INTERVAL_S:
            return self._state
        async with self._lock:
            if self._state is None or time.monotonic() - self._checked_at >= CHECK_INTERVAL_S:
                await anyio.to_thread.run_sync(self._refresh)
        state = self._state
        if state is None:
            raise KasUnavailableError("service_unavailable", "the registry has not been loaded")
        return state

    async def trusted_issuers(self) -> Mapping[str, TrustedIssuer]:
        return (await self.current()).issuers

    def _refresh(self) -> None:
        try:
            with self._sessions() as session:
                version = self._repository.read_version(session)
            if self._state is None or version != self._state.version:
                state = self._read()
                self._on_change(state)
                self._state = state
        except StoreError as exc:
            raise KasUnavailableError("service_unavailable", "the trusted-issuer registry cannot be read") from exc
        self._checked_at = time.monotonic()

    def _read(self) -> RegistryState:
        with self._sessions() as session:
            snapshot = self._repository.read_policy_registry(session)
            spokes = [s for s in self._repository.list_spokes(session) if s.status == "approved"]
            issuers = {
                self._settings.own_issuer: TrustedIssuer(
                    self._settings.own_issuer, self._settings.instance_code, own_jwks_uri(self._settings.own_issuer)
                )
            }
            for spoke in spokes:
                issuers[spoke.issuer] = _partner_issuer(spoke)
        data = build_registry_data(snapshot, self._settings, production=self._production)
        return RegistryState(snapshot.version, issuers, data)


def _partner_issuer(spoke: FederationSpoke) -> TrustedIssuer:
    return TrustedIssuer(
        issuer=spoke.issuer,
        instance_code=spoke.code.upper(),
        jwks_uri=spoke.jwks_uri or own_jwks_uri(spoke.issuer),
        allowed_clients=tuple(spoke.allowed_clients) if spoke.allowed_clients else None,
    )
