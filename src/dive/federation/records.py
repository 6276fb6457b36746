"""The instance-database side of federation: sessions on an instance DB and the `federation_links` rows
(orchestration §5.3, §8.2 step 4, §8.5 recording, §8.6)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dive import catalog
from dive.store import create_engine_for, writer_session_factory
from dive.store.models.registry import FederationLink

__all__ = ["instance_session", "link_rows", "record_link_result", "set_link_rows"]


@contextmanager
def instance_session(url: str) -> Iterator[Session]:
    """One write transaction on the instance database at `url`: committed on success, rolled back on error."""
    engine = create_engine_for(url)
    try:
        with writer_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def set_link_rows(session: Session, hub: str, spoke: str, status: str) -> None:
    """Both directions of the pair (c→usa, usa→c) with `status` (PENDING, ACTIVE, FAILED, DISABLED)."""
    for source, target in ((spoke, hub), (hub, spoke)):
        _ensure_row(session, source, target).status = status
    session.flush()


def record_link_result(session: Session, source: str, target: str, results: Mapping[str, str]) -> str:
    """§8.5 recording: ACTIVE when every recorded check passed (or was skipped), else FAILED with one more failure."""
    row = _ensure_row(session, source, target)
    ok = all(status != "fail" for status in results.values())
    row.last_verified_at, row.last_result = datetime.now(UTC), dict(results)
    row.status = "ACTIVE" if ok else "FAILED"
    row.consecutive_failures = 0 if ok else (row.consecutive_failures or 0) + 1
    row.last_error = None if ok else ", ".join(k for k, v in results.items() if v == "fail")
    session.flush()
    return row.status


def link_rows(session: Session) -> list[FederationLink]:
    return list(
        session.scalars(select(FederationLink).order_by(FederationLink.source_code, FederationLink.target_code))
    )


def _row(session: Session, source: str, target: str) -> FederationLink | None:
    query = select(FederationLink).where(FederationLink.source_code == source, FederationLink.target_code == target)
    return session.scalars(query).first()


def _ensure_row(session: Session, source: str, target: str) -> FederationLink:
    row = _row(session, source, target)
    if row is None:
        row = FederationLink(
            source_code=source,
            target_code=target,
            direction="spoke_to_hub" if target == catalog.HUB else "hub_to_spoke",
            idp_alias=catalog.idp_alias(source),
            client_id=catalog.client_id(target),
            status="PENDING",
            consecutive_failures=0,
        )
        session.add(row)
        session.flush()
    return row
