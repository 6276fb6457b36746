"""SSO session timing (§A.3): idle timeout extended by each refresh and silent `/auth`, absolute maximum."""

from __future__ import annotations

from datetime import datetime, timedelta

from dive.idp.model import Realm, SsoSession

__all__ = ["is_session_alive", "refresh_lifetime_s", "session_revocation_horizon"]


def _idle(realm: Realm) -> timedelta:
    return timedelta(seconds=int(realm.setting("ssoSessionIdleTimeout")))


def _max(realm: Realm) -> timedelta:
    return timedelta(seconds=int(realm.setting("ssoSessionMaxLifespan")))


def is_session_alive(session: SsoSession, realm: Realm, now: datetime) -> bool:
    if session.ended_at is not None:
        return False
    return now - session.last_seen_at < _idle(realm) and now - session.started_at < _max(realm)


def refresh_lifetime_s(session: SsoSession, realm: Realm, now: datetime) -> int:
    """Time left before the idle timeout counted from now, capped by what remains of the maximum lifespan."""
    remaining_max = session.started_at + _max(realm) - now
    return max(0, int(min(_idle(realm), remaining_max).total_seconds()))


def session_revocation_horizon(realm: Realm, now: datetime) -> datetime:
    """A revoked `sid` must outlive every token of the session: the access lifetime is at most the maximum."""
    return now + _max(realm) + timedelta(seconds=int(realm.setting("accessTokenLifespan")))
