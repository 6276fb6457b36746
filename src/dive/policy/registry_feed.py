"""The one loader of the dynamic `data.dive` (CONSISTENCY #8): every engine host (pdp, api, kas) builds it from its
own instance database at start and again whenever `registry_version` changes, checked at least every 5 s (#18).

The same poll refreshes the trusted issuers with their JWKS URIs (identity-api-ui §B.2 step 2, ztdf-kas §7.4), so a
token verifier never trusts an issuer longer than 5 s after the registry dropped it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dive.domain.countries import ISO_ALPHA3
from dive.policy.bundle import RegistryData, build_data
from dive.policy.engine import PolicyEngine
from dive.store.errors import StoreError
from dive.store.models.registry import FederationSpoke
from dive.store.registry import FederationRegistryRepository, RegistrySnapshot
from dive.tokens import TokenCheckUnavailableError, TrustedIssuer, own_jwks_uri

__all__ = ["REGISTRY_POLL_S", "RegistryFeed", "poll", "registry_data_from", "trusted_issuers_from"]

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


def trusted_issuers_from(
    spokes: Sequence[FederationSpoke], *, own_code: str, own_issuer: str
) -> dict[str, TrustedIssuer]:
    """The own realm plus every `approved` partner, with the JWKS URI the registry recorded (never the token's)."""
    issuers = {own_issuer: TrustedIssuer(own_issuer, own_code, own_jwks_uri(own_issuer))}
    for spoke in spokes:
        if spoke.status == "approved":
            issuers[spoke.issuer] = TrustedIssuer(
                issuer=spoke.issuer,
                instance_code=spoke.code.upper(),
                jwks_uri=spoke.jwks_uri or own_jwks_uri(spoke.issuer),
                allowed_clients=tuple(spoke.allowed_clients) if spoke.allowed_clients else None,
            )
    return issuers


@dataclass
class RegistryFeed:
    """Keeps an engine's `data.dive` and the trusted issuers in step with the instance registry."""

    sessions: sessionmaker[Session]
    engine: PolicyEngine
    static_data: dict[str, object]
    own_code: str  # upper case
    own_issuer: str
    production: bool
    on_reload: Callable[[int, str], None] | None = None  # (registry version, new policy revision)
    version: int | None = None
    issuers: Mapping[str, TrustedIssuer] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)  # the `data.dive` the engine now evaluates with
    _checked_at: float = field(default=float("-inf"), repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _repository: FederationRegistryRepository = field(default_factory=FederationRegistryRepository, repr=False)

    def refresh(self) -> bool:
        """Reload the engine if the registry changed since the last call; True when it did (blocking I/O)."""
        with self.sessions() as session:
            current = self._repository.read_version(session)
            if current == self.version:
                self._checked_at = time.monotonic()
                return False
            snapshot = self._repository.read_policy_registry(session)
            spokes = self._repository.list_spokes(session)
        self.issuers = trusted_issuers_from(spokes, own_code=self.own_code, own_issuer=self.own_issuer)
        data = registry_data_from(
            snapshot, own_code=self.own_code, own_issuer=self.own_issuer, production=self.production
        )
        self.data = build_data(self.static_data, data)
        self.engine.reload(data=self.data)
        self.version = snapshot.version
        log.info(
            "policy data reloaded",
            extra={"registry_version": snapshot.version, "policy_revision": self.engine.revision()},
        )
        if self.on_reload is not None:
            self.on_reload(snapshot.version, self.engine.revision())
        self._checked_at = time.monotonic()
        return True

    async def trusted_issuers(self) -> Mapping[str, TrustedIssuer]:
        """A `TrustedIssuerSource`: the issuers as of at most `REGISTRY_POLL_S` ago. When the registry cannot be
        read the verifier refuses every token (503) rather than keep trusting a stale set (§B.10 item 4)."""
        if time.monotonic() - self._checked_at < REGISTRY_POLL_S:
            return self.issuers
        async with self._lock:
            if time.monotonic() - self._checked_at >= REGISTRY_POLL_S:
                try:
                    await anyio.to_thread.run_sync(self.refresh)
                except (StoreError, SQLAlchemyError) as exc:  # unreachable or not migrated: both fail closed
                    raise TokenCheckUnavailableError(
                        "issuers_unavailable", "the trusted-issuer registry cannot be read; try again later"
                    ) from exc
        return self.issuers


async def poll(refresh: Callable[[], object], interval_s: float = REGISTRY_POLL_S) -> None:
    """Run the blocking `refresh` in a thread every `interval_s` until cancelled. A failed poll keeps the last
    good policy data and is retried on the next tick."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await anyio.to_thread.run_sync(refresh)
        except Exception:  # the loop must survive a database blip; the error is logged with its traceback
            log.exception("policy data refresh failed; keeping the previous policy data")
