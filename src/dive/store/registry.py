"""The federation registry repository (spec/orchestration.md §5.3; CONSISTENCY #8, #9, #10).

Every write bumps `registry_version` in the caller's transaction, so a reader that sees the new version also sees
the change. Readers get codes in upper case (the policy's spelling); the tables keep them in lower case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Text, cast, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dive.domain.countries import ISO_ALPHA3
from dive.store.errors import MigrationError, RecordInvalidError
from dive.store.models.registry import (
    REGISTRY_VERSION_KEY,
    CoiRegistryEntry,
    FederationMatrixEntry,
    FederationSpoke,
    RegistryMeta,
    TenantSetting,
)

__all__ = ["FederationRegistryRepository", "RegistrySnapshot", "TrustedPartner"]


@dataclass(frozen=True)
class TrustedPartner:
    code: str  # upper case
    issuer: str


@dataclass(frozen=True)
class RegistrySnapshot:
    """The registry data the policy reads (`data.dive`, CONSISTENCY #8), taken in one transaction.

    `test_codes` are the registry's codes that are not ISO 3166-1 codes; the loader adds the own code and drops
    them in production (abac D15).
    """

    version: int
    trusted_partners: tuple[TrustedPartner, ...]
    matrix: Mapping[str, tuple[str, ...]]
    coi_members: Mapping[str, tuple[str, ...]]
    tenants: Mapping[str, Mapping[str, Any]]
    test_codes: tuple[str, ...]


class FederationRegistryRepository:
    """The only writer of the registry tables; methods run inside the caller's session and transaction."""

    def read_version(self, session: Session) -> int:
        value = session.scalar(select(RegistryMeta.value).where(RegistryMeta.key == REGISTRY_VERSION_KEY))
        if value is None:
            raise _version_missing()
        return int(value)

    def bump_version(self, session: Session) -> int:
        """+1 in the current transaction (an atomic UPDATE, so concurrent writers never reuse a number)."""
        statement = (
            update(RegistryMeta)
            .where(RegistryMeta.key == REGISTRY_VERSION_KEY)
            .values(value=cast(cast(RegistryMeta.value, BigInteger) + 1, Text))
            .returning(RegistryMeta.value)
        )
        value = session.execute(statement).scalar_one_or_none()
        if value is None:
            raise _version_missing()
        return int(value)

    def read_policy_registry(self, session: Session) -> RegistrySnapshot:
        # The version is read first: a change committed in between shows up with a newer version on the next poll.
        version = self.read_version(session)
        spokes = session.execute(
            select(FederationSpoke.code, FederationSpoke.status, FederationSpoke.issuer).order_by(FederationSpoke.code)
        ).all()
        return RegistrySnapshot(
            version=version,
            trusted_partners=tuple(
                TrustedPartner(code.upper(), issuer) for code, status, issuer in spokes if status == "approved"
            ),
            matrix=self._read_matrix(session),
            coi_members={
                entry.coi: tuple(entry.members)
                for entry in session.scalars(select(CoiRegistryEntry).order_by(CoiRegistryEntry.coi))
            },
            tenants={
                entry.instance_code.upper(): dict(entry.settings) for entry in session.scalars(select(TenantSetting))
            },
            test_codes=tuple(code.upper() for code, _, _ in spokes if code.upper() not in ISO_ALPHA3),
        )

    def get_spoke(self, session: Session, code: str) -> FederationSpoke | None:
        return session.get(FederationSpoke, _lower_code(code))

    def list_spokes(self, session: Session) -> list[FederationSpoke]:
        return list(session.scalars(select(FederationSpoke).order_by(FederationSpoke.code)))

    def save_spoke(self, session: Session, spoke: FederationSpoke) -> FederationSpoke:
        """Insert or update the record with `spoke.code`."""
        spoke.code = _lower_code(spoke.code)
        saved = session.merge(spoke)
        _flush(session, f"registry record {spoke.code.upper()}")
        self.bump_version(session)
        return saved

    def delete_spoke(self, session: Session, code: str) -> bool:
        deleted = session.execute(delete(FederationSpoke).where(FederationSpoke.code == _lower_code(code))).rowcount
        if deleted:
            self.bump_version(session)
        return deleted > 0

    def set_matrix_pair(self, session: Session, first: str, second: str, *, source: str) -> None:
        """Both rows of the pair (CONSISTENCY #9): each side's users may access the other's resources."""
        a, b = _lower_code(first), _lower_code(second)
        if a == b:
            raise RecordInvalidError(f"matrix pair {a.upper()}–{b.upper()} names one instance twice")
        with session.no_autoflush:
            for owner, partner in ((a, b), (b, a)):
                if session.get(FederationMatrixEntry, (owner, partner)) is None:
                    session.add(FederationMatrixEntry(owner_code=owner, partner_code=partner, source=source))
        _flush(session, f"matrix pair {a.upper()}–{b.upper()}")
        self.bump_version(session)

    def remove_matrix_pair(self, session: Session, first: str, second: str) -> None:
        a, b = _lower_code(first), _lower_code(second)
        session.execute(
            delete(FederationMatrixEntry).where(
                ((FederationMatrixEntry.owner_code == a) & (FederationMatrixEntry.partner_code == b))
                | ((FederationMatrixEntry.owner_code == b) & (FederationMatrixEntry.partner_code == a))
            )
        )
        self.bump_version(session)

    def set_coi_members(self, session: Session, coi: str, members: Iterable[str]) -> None:
        session.merge(CoiRegistryEntry(coi=coi, members=[member.upper() for member in members]))
        _flush(session, f"COI {coi}")
        self.bump_version(session)

    def set_tenant_settings(self, session: Session, code: str, settings: Mapping[str, Any]) -> None:
        session.merge(TenantSetting(instance_code=_lower_code(code), settings=dict(settings)))
        _flush(session, f"tenant settings of {code.upper()}")
        self.bump_version(session)

    def _read_matrix(self, session: Session) -> dict[str, tuple[str, ...]]:
        partners: defaultdict[str, list[str]] = defaultdict(list)
        rows = session.execute(
            select(FederationMatrixEntry.owner_code, FederationMatrixEntry.partner_code).order_by(
                FederationMatrixEntry.owner_code, FederationMatrixEntry.partner_code
            )
        )
        for owner, partner in rows:
            partners[owner.upper()].append(partner.upper())
        return {owner: tuple(codes) for owner, codes in partners.items()}


def _lower_code(code: str) -> str:
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise RecordInvalidError(f"instance code {code!r} is not three ASCII letters")
    return code.lower()


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise RecordInvalidError(f"{what} violates a registry constraint: {exc.orig}") from exc


def _version_missing() -> MigrationError:
    return MigrationError("registry_meta has no registry_version row; run ensure_schema on this database")
