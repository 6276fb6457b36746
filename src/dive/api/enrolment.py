"""Single-use enrolment tokens (orchestration Amendment A1; CONSISTENCY #13).

The hub issues one per remote spoke (`dive spoke authorize CODE`); the spoke presents it in `X-DIVE-Enrolment-Token`
on `POST /api/federation/register` and `POST /api/kas/register` (for `<code>-kas`) of its own code only. A successful
`register` consumes it, in the same transaction, so two registrations racing on one token cannot both succeed.
Authentication (the token exists and is live) comes before authorisation (it names the body's code), as for every
other credential (identity-api-ui §B.10 item 2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dive import catalog
from dive.api.errors import ForbiddenError, InvalidRequestError, TokenInvalidError
from dive.store.models.enrolment import EnrolmentToken

__all__ = [
    "DEFAULT_ENROLMENT_TTL_S",
    "ENROLMENT_TOKEN_HEADER",
    "EnrolmentGrant",
    "authenticate_enrolment",
    "authorise_enrolment",
    "consume_enrolment",
    "issue_enrolment_token",
    "revoke_enrolment_tokens",
]

ENROLMENT_TOKEN_HEADER: Final = "x-dive-enrolment-token"
DEFAULT_ENROLMENT_TTL_S: Final = 72 * 3600  # orchestration A1: `dive spoke authorize CODE [--ttl 72h]`


@dataclass(frozen=True)
class EnrolmentGrant:
    """A live enrolment token, as read at authentication; `token_id` is what `consume_enrolment` spends."""

    token_id: int
    code: str  # lower case
    auto_approve: bool


def issue_enrolment_token(session: Session, code: str, *, ttl_s: int, auto_approve: bool) -> str:
    """Store the hash of a new token for instance `code`, valid `ttl_s` seconds, and return the token (shown once)."""
    code = code.lower()
    if not (catalog.is_catalog_code(code) or catalog.is_test_code(code)):
        raise InvalidRequestError(f"{code.upper()!r} is not an instance code; use a catalog or test code")
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or ttl_s < 1:
        raise InvalidRequestError(f"the enrolment token lifetime {ttl_s!r} is not a positive number of seconds")
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        EnrolmentToken(
            code=code,
            token_hash=_digest(token),
            auto_approve=auto_approve is True,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    session.flush()
    return token


def revoke_enrolment_tokens(session: Session, code: str) -> int:
    """`dive spoke revoke-authorization CODE`: revoke every unspent token of `code`; returns how many."""
    unspent = (
        update(EnrolmentToken)
        .where(
            EnrolmentToken.code == code.lower(),
            EnrolmentToken.consumed_at.is_(None),
            EnrolmentToken.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    return int(session.execute(unspent).rowcount)  # type: ignore[attr-defined]


def authenticate_enrolment(session: Session, presented: str) -> EnrolmentGrant:
    """401 `invalid_token` unless `presented` is a known token that is neither expired, spent nor revoked."""
    row = session.scalars(select(EnrolmentToken).where(EnrolmentToken.token_hash == _digest(presented))).first()
    if row is None:
        raise TokenInvalidError("enrolment_token_unknown", "The enrolment token is not known; ask the hub for one.")
    if row.revoked_at is not None:
        raise TokenInvalidError("enrolment_token_revoked", "The enrolment token was revoked; ask the hub for another.")
    if row.consumed_at is not None:
        raise TokenInvalidError("enrolment_token_used", "The enrolment token was already used; it is single-use.")
    if row.expires_at <= datetime.now(UTC):
        raise TokenInvalidError("enrolment_token_expired", "The enrolment token has expired; ask the hub for another.")
    return EnrolmentGrant(token_id=row.id, code=row.code, auto_approve=row.auto_approve)


def authorise_enrolment(grant: EnrolmentGrant, code: str) -> None:
    """403 unless the token was issued for instance `code`."""
    if grant.code != code.lower():
        raise ForbiddenError(
            "insufficient_role", f"This enrolment token is valid for {grant.code.upper()} only, not {code.upper()!r}."
        )


def consume_enrolment(session: Session, grant: EnrolmentGrant) -> None:
    """Spend the token inside the registering transaction; the guarded update lets only one racer win."""
    spend = (
        update(EnrolmentToken)
        .where(
            EnrolmentToken.id == grant.token_id,
            EnrolmentToken.consumed_at.is_(None),
            EnrolmentToken.revoked_at.is_(None),
        )
        .values(consumed_at=datetime.now(UTC))
    )
    if session.execute(spend).rowcount != 1:  # type: ignore[attr-defined]
        raise TokenInvalidError("enrolment_token_used", "The enrolment token was used or revoked meanwhile.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
