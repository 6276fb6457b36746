"""Single-use enrolment tokens of remote spokes (orchestration Amendment A1; CONSISTENCY #13).

Only the SHA-256 of a token is stored. A token authorises one instance code until it expires, is consumed by a
successful `POST /api/federation/register`, or is revoked (`dive spoke revoke-authorization CODE`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from dive.store.models.base import BIG_ID, Base, UtcDateTime, lower_code_check, utc_now

__all__ = ["EnrolmentToken"]


class EnrolmentToken(Base):
    __tablename__ = "enrolment_tokens"
    __table_args__ = (
        lower_code_check("code"),
        CheckConstraint("expires_at > issued_at", name="expiry_after_issue"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(3), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
