"""The SQL of list and search (identity-api-ui §B.5.1): the policy's pushdown (abac §9.3) AND the user's filters.

Pure query building; `dive.api.search` runs the statements. Facets are multi-select: each facet's counts apply every
filter but its own. Full text matches every term of `q` (the last as a prefix) in the title or summary,
case-insensitively, with LIKE wildcards escaped, so `q` is never SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import aliased

from dive.api.search_query import SearchQuery
from dive.policy.pushdown import NoContribution, SubjectFilter, resource_predicate
from dive.store.models.resources import Resource, ResourceCoi, ResourceReleasability

__all__ = ["FACETS", "count_statement", "data_stamp_statement", "facet_statement", "page_statement"]

FACETS: Final = ("classification", "releasableTo", "coi", "instance", "encrypted", "fileType")
_LIKE_ESCAPE: Final = "\\"


def page_statement(subject: SubjectFilter | NoContribution, query: SearchQuery, offset: int, limit: int) -> Select[Any]:
    return (
        select(Resource)
        .where(resource_predicate(subject), *_filters(query))
        .order_by(*_order(query.sort_applied))
        .offset(offset)
        .limit(limit)
    )


def count_statement(subject: SubjectFilter | NoContribution, query: SearchQuery) -> Select[Any]:
    return select(func.count()).select_from(Resource).where(resource_predicate(subject), *_filters(query))


def data_stamp_statement() -> Select[Any]:
    """A cheap stamp of the stored documents (row count, highest key): any insert or delete by any writer moves it."""
    return select(func.count(), func.max(Resource.pk)).select_from(Resource)


def facet_statement(subject: SubjectFilter | NoContribution, query: SearchQuery, facet: str) -> Select[Any]:
    """Counts per value of `facet` under every filter except the facet's own."""
    conditions = [resource_predicate(subject), *_filters(query, skip=facet)]
    # Aliased so that the pushdown's own EXISTS over these tables does not correlate with the facet's join.
    if facet == "releasableTo":
        x = aliased(ResourceReleasability)
        return (
            select(x.country, func.count())
            .join(Resource, Resource.pk == x.resource_pk)
            .where(*conditions)
            .group_by(x.country)
        )
    if facet == "coi":
        c = aliased(ResourceCoi)
        return (
            select(c.coi, func.count()).join(Resource, Resource.pk == c.resource_pk).where(*conditions).group_by(c.coi)
        )
    column = {
        "classification": Resource.classification,
        "instance": Resource.instance_code,
        "encrypted": Resource.encrypted,
        "fileType": Resource.file_type,
    }[facet]
    return select(column, func.count()).select_from(Resource).where(*conditions).group_by(column)


def _filters(query: SearchQuery, *, skip: str | None = None) -> list[ColumnElement[bool]]:
    r = Resource
    conditions: list[ColumnElement[bool]] = [_term(term) for term in query.terms]
    if query.classification and skip != "classification":
        conditions.append(r.classification.in_(query.classification))
    if query.releasable_to and skip != "releasableTo":
        x = ResourceReleasability
        conditions.append(exists().where(x.resource_pk == r.pk, x.country.in_(query.releasable_to)))
    if query.coi and skip != "coi":
        c = ResourceCoi
        conditions.append(exists().where(c.resource_pk == r.pk, c.coi.in_(query.coi)))
    if query.instance and skip != "instance":
        conditions.append(r.instance_code.in_([code.lower() for code in query.instance]))
    if query.file_type and skip != "fileType":
        conditions.append(r.file_type.in_(query.file_type))
    if query.encrypted is not None and skip != "encrypted":
        conditions.append(r.encrypted.is_(query.encrypted))
    if query.date_from is not None:
        conditions.append(r.creation_ts >= datetime.combine(query.date_from, time.min, UTC))
    if query.date_to is not None:  # inclusive: the whole of that day
        conditions.append(r.creation_ts < datetime.combine(query.date_to + timedelta(days=1), time.min, UTC))
    return conditions


def _term(term: str) -> ColumnElement[bool]:
    escaped = term.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped.lower()}%"
    return or_(
        func.lower(Resource.title).like(pattern, escape=_LIKE_ESCAPE),
        func.lower(func.coalesce(Resource.summary, "")).like(pattern, escape=_LIKE_ESCAPE),
    )


def _order(sort: str) -> tuple[ColumnElement[Any], ...]:
    """CONSISTENCY #5: ties always broken by `resourceId` ascending."""
    r = Resource
    first: dict[str, ColumnElement[Any]] = {
        "-creationDate": r.creation_ts.desc().nulls_last(),
        "creationDate": r.creation_ts.asc().nulls_last(),
        "title": r.title.asc(),
        "-title": r.title.desc(),
        "classification": r.classification_rank.asc().nulls_last(),
        "-classification": r.classification_rank.desc().nulls_last(),
    }
    return (first[sort], r.resource_id.asc())
