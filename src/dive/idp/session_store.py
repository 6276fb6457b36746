"""Repository of the short-lived protocol state: SSO sessions, authorization codes, refresh tokens, the
revocation list (§A.3), login (auth) sessions, broker states, brute-force counters and events (§A.9)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from dive.idp.bruteforce import LockoutState
from dive.idp.database import IdpDatabase
from dive.idp.model import AuthorizationCode, SsoSession
from dive.store.models.idp import (
    IdpAuthCode,
    IdpAuthSession,
    IdpBrokerState,
    IdpBruteForce,
    IdpEvent,
    IdpRefreshToken,
    IdpSsoSession,
    Revocation,
)

__all__ = ["AuthSession", "BrokerState", "EventQuery", "SessionStore"]


@dataclass(frozen=True, kw_only=True)
class AuthSession:
    """A login in progress (§A.7): the authorization request's parameters and how far the user got."""

    id: str
    realm_id: str
    params: Mapping[str, Any]
    csrf: str
    user_id: str | None
    stage: str  # password | otp | done
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class BrokerState:
    state: str
    realm_id: str
    alias: str
    auth_session_id: str
    nonce: str
    code_verifier: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class EventQuery:
    types: Sequence[str] = ()
    user_id: str | None = None
    client_id: str | None = None
    date_from_ms: int | None = None
    date_to_ms: int | None = None


RevocationListener = Callable[..., None]


class SessionStore:
    """`on_revoke(kind, value, issuer=, expires_at=, now=)` is called after a revocation is committed."""

    def __init__(self, db: IdpDatabase, *, on_revoke: RevocationListener | None = None) -> None:
        self._db = db
        self._on_revoke = on_revoke

    def _published(self, kind: str, value: str, *, issuer: str, expires_at: datetime, now: datetime) -> None:
        if self._on_revoke is not None:
            self._on_revoke(kind, value, issuer=issuer, expires_at=expires_at, now=now)

    # --- SSO sessions -------------------------------------------------------------------------------------------
    def create_sso_session(self, session: SsoSession) -> None:
        with self._db.write() as s:
            s.add(
                IdpSsoSession(
                    id=session.id,
                    realm_id=session.realm_id,
                    user_id=session.user_id,
                    started_at=session.started_at,
                    last_seen_at=session.last_seen_at,
                    auth_time=session.auth_time,
                    acr=session.acr,
                    amr=list(session.amr),
                    identity_provider=session.identity_provider,
                )
            )

    def sso_session(self, session_id: str) -> SsoSession | None:
        with self._db.read() as s:
            row = s.get(IdpSsoSession, session_id)
            return _sso(row) if row else None

    def user_sessions(self, user_id: str) -> list[SsoSession]:
        with self._db.read() as s:
            rows = s.scalars(
                select(IdpSsoSession).where(IdpSsoSession.user_id == user_id, IdpSsoSession.ended_at.is_(None))
            )
            return [_sso(r) for r in rows]

    def count_open_sso_sessions(self, since: datetime) -> int:
        with self._db.read() as s:
            return int(s.scalar(select(func.count(IdpSsoSession.id)).where(
                IdpSsoSession.ended_at.is_(None), IdpSsoSession.last_seen_at > since)) or 0)  # fmt: skip

    def touch_sso_session(self, session_id: str, now: datetime) -> None:
        with self._db.write() as s:
            s.execute(update(IdpSsoSession).where(IdpSsoSession.id == session_id).values(last_seen_at=now))

    def end_sso_session(self, session_id: str, *, issuer: str, now: datetime, revoke_until: datetime) -> bool:
        """End the session, burn its refresh tokens and publish its `sid` to the revocation list.
        Returns False when it had already ended."""
        with self._db.write() as s:
            ended = s.execute(
                update(IdpSsoSession)
                .where(IdpSsoSession.id == session_id, IdpSsoSession.ended_at.is_(None))
                .values(ended_at=now)
            )
            s.execute(
                update(IdpRefreshToken)
                .where(IdpRefreshToken.session_id == session_id, IdpRefreshToken.used_at.is_(None))
                .values(used_at=now)
            )
            if ended.rowcount == 1:
                s.merge(Revocation(kind="sid", value=session_id, issuer=issuer, expires_at=revoke_until))
        if ended.rowcount == 1:
            self._published("sid", session_id, issuer=issuer, expires_at=revoke_until, now=now)
        return ended.rowcount == 1

    # --- authorization codes ------------------------------------------------------------------------------------
    def save_code(self, code: AuthorizationCode) -> None:
        with self._db.write() as s:
            s.add(
                IdpAuthCode(
                    code_hash=code.code_hash,
                    realm_id=code.realm_id,
                    client_id=code.client_id,
                    redirect_uri=code.redirect_uri,
                    session_id=code.session_id,
                    scope=code.scope,
                    nonce=code.nonce,
                    code_challenge=code.code_challenge,
                    expires_at=code.expires_at,
                )
            )

    def code(self, code_hash: str) -> AuthorizationCode | None:
        with self._db.read() as s:
            row = s.get(IdpAuthCode, code_hash)
            if row is None:
                return None
            return AuthorizationCode(
                code_hash=row.code_hash,
                realm_id=row.realm_id,
                client_id=row.client_id,
                redirect_uri=row.redirect_uri,
                session_id=row.session_id,
                scope=row.scope,
                nonce=row.nonce,
                code_challenge=row.code_challenge,
                expires_at=row.expires_at,
                used_at=row.used_at,
            )

    def mark_code_used(self, code_hash: str, now: datetime) -> bool:
        """Single use: True only for the one redemption that flips `used_at` (safe under concurrency)."""
        with self._db.write() as s:
            result = s.execute(
                update(IdpAuthCode)
                .where(IdpAuthCode.code_hash == code_hash, IdpAuthCode.used_at.is_(None))
                .values(used_at=now)
            )
            return result.rowcount == 1

    def delete_code(self, code_hash: str) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpAuthCode).where(IdpAuthCode.code_hash == code_hash))

    # --- refresh tokens -----------------------------------------------------------------------------------------
    def save_refresh_token(self, jti: str, *, session_id: str, client_id: str, expires_at: datetime) -> None:
        with self._db.write() as s:
            s.add(IdpRefreshToken(jti=jti, session_id=session_id, client_id=client_id, expires_at=expires_at))

    def use_refresh_token(self, jti: str, now: datetime) -> bool:
        with self._db.write() as s:
            result = s.execute(
                update(IdpRefreshToken)
                .where(IdpRefreshToken.jti == jti, IdpRefreshToken.used_at.is_(None))
                .values(used_at=now)
            )
            return result.rowcount == 1

    # --- revocation list ----------------------------------------------------------------------------------------
    def revoke(self, kind: str, value: str, *, issuer: str, expires_at: datetime, now: datetime) -> None:
        with self._db.write() as s:
            s.merge(Revocation(kind=kind, value=value, issuer=issuer, expires_at=expires_at))
        self._published(kind, value, issuer=issuer, expires_at=expires_at, now=now)

    def is_revoked(self, *, jti: str | None, sid: str | None, now: datetime) -> bool:
        keys = [("jti", jti), ("sid", sid)]
        with self._db.read() as s:
            for kind, value in keys:
                if value and s.scalar(
                    select(Revocation.value).where(
                        Revocation.kind == kind, Revocation.value == value, Revocation.expires_at > now
                    )
                ):
                    return True
        return False

    # --- auth sessions (login in progress) ----------------------------------------------------------------------
    def save_auth_session(self, auth: AuthSession) -> None:
        with self._db.write() as s:
            s.merge(
                IdpAuthSession(
                    id=auth.id,
                    realm_id=auth.realm_id,
                    params=dict(auth.params),
                    csrf=auth.csrf,
                    user_id=auth.user_id,
                    stage=auth.stage,
                    expires_at=auth.expires_at,
                )
            )

    def auth_session(self, auth_id: str, now: datetime) -> AuthSession | None:
        with self._db.read() as s:
            row = s.get(IdpAuthSession, auth_id)
            if row is None or row.expires_at <= now:
                return None
            return AuthSession(id=row.id, realm_id=row.realm_id, params=row.params, csrf=row.csrf,
                               user_id=row.user_id, stage=row.stage, expires_at=row.expires_at)  # fmt: skip

    def delete_auth_session(self, auth_id: str) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpAuthSession).where(IdpAuthSession.id == auth_id))

    # --- broker states ------------------------------------------------------------------------------------------
    def save_broker_state(self, state: BrokerState) -> None:
        with self._db.write() as s:
            s.add(
                IdpBrokerState(
                    state=state.state,
                    realm_id=state.realm_id,
                    alias=state.alias,
                    auth_session_id=state.auth_session_id,
                    nonce=state.nonce,
                    code_verifier=state.code_verifier,
                    expires_at=state.expires_at,
                )
            )

    def consume_broker_state(self, state: str, now: datetime) -> BrokerState | None:
        """Single use: the row is deleted by the first reader; expired states are refused."""
        with self._db.write() as s:
            row = s.get(IdpBrokerState, state)
            if row is None:
                return None
            s.delete(row)
            if row.expires_at <= now:
                return None
            return BrokerState(state=row.state, realm_id=row.realm_id, alias=row.alias,
                               auth_session_id=row.auth_session_id, nonce=row.nonce,
                               code_verifier=row.code_verifier, expires_at=row.expires_at)  # fmt: skip

    # --- brute force --------------------------------------------------------------------------------------------
    def lockout(self, user_id: str) -> LockoutState:
        with self._db.read() as s:
            row = s.get(IdpBruteForce, user_id)
            if row is None:
                return LockoutState()
            return LockoutState(failures=row.failures, locks=row.locks, locked_until=row.locked_until,
                                last_failure=row.last_failure, last_ip=row.last_ip)  # fmt: skip

    def save_lockout(self, user_id: str, state: LockoutState) -> None:
        with self._db.write() as s:
            s.merge(
                IdpBruteForce(
                    user_id=user_id,
                    failures=state.failures,
                    locks=state.locks,
                    locked_until=state.locked_until,
                    last_failure=state.last_failure,
                    last_ip=state.last_ip,
                )
            )

    def clear_lockout(self, user_id: str) -> None:
        with self._db.write() as s:
            s.execute(delete(IdpBruteForce).where(IdpBruteForce.user_id == user_id))

    # --- events -------------------------------------------------------------------------------------------------
    def record_event(self, realm_id: str, event_type: str, *, time_ms: int, **fields: Any) -> None:
        details = fields.pop("details", None) or {}
        with self._db.write() as s:
            s.add(IdpEvent(realm_id=realm_id, time_ms=time_ms, type=event_type, details=details, **fields))

    def events(self, realm_id: str, query: EventQuery, *, first: int, limit: int) -> list[dict[str, Any]]:
        stmt = select(IdpEvent).where(IdpEvent.realm_id == realm_id)
        if query.types:
            stmt = stmt.where(IdpEvent.type.in_(query.types))
        if query.user_id:
            stmt = stmt.where(IdpEvent.user_id == query.user_id)
        if query.client_id:
            stmt = stmt.where(IdpEvent.client_id == query.client_id)
        if query.date_from_ms is not None:
            stmt = stmt.where(IdpEvent.time_ms >= query.date_from_ms)
        if query.date_to_ms is not None:
            stmt = stmt.where(IdpEvent.time_ms <= query.date_to_ms)
        with self._db.read() as s:
            rows = s.scalars(stmt.order_by(IdpEvent.time_ms.desc(), IdpEvent.id.desc()).offset(first).limit(limit))
            return [_event(r) for r in rows]

    def purge_expired(self, now: datetime, *, events_before_ms: int) -> None:
        with self._db.write() as s:
            s.execute(delete(Revocation).where(Revocation.expires_at <= now))
            s.execute(delete(IdpAuthCode).where(IdpAuthCode.expires_at <= now - timedelta(hours=1)))
            s.execute(delete(IdpRefreshToken).where(IdpRefreshToken.expires_at <= now))
            s.execute(delete(IdpAuthSession).where(IdpAuthSession.expires_at <= now))
            s.execute(delete(IdpBrokerState).where(IdpBrokerState.expires_at <= now))
            s.execute(delete(IdpEvent).where(IdpEvent.time_ms < events_before_ms))


def _sso(row: IdpSsoSession) -> SsoSession:
    return SsoSession(
        id=row.id,
        realm_id=row.realm_id,
        user_id=row.user_id,
        started_at=row.started_at,
        last_seen_at=row.last_seen_at,
        auth_time=row.auth_time,
        acr=row.acr,
        amr=tuple(row.amr or ()),
        identity_provider=row.identity_provider,
        ended_at=row.ended_at,
    )


def _event(row: IdpEvent) -> dict[str, Any]:
    event: dict[str, Any] = {"time": row.time_ms, "type": row.type, "realmId": row.realm_id, "details": row.details}
    optional = {"clientId": row.client_id, "userId": row.user_id, "sessionId": row.session_id,
                "ipAddress": row.ip_address, "error": row.error}  # fmt: skip
    event.update({k: v for k, v in optional.items() if v is not None})
    return event
