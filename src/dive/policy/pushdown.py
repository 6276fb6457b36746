"""The search filter: the policy's `read` rules pushed into SQL (spec/abac.md §9, D11; CONSISTENCY #5).

The subject side is decided once per query in Python with `dive.domain` (§9.1), from the very subject and context the
PEP would send (`dive.policy.pep_input`); the resource side is the §9.3 predicate over the §9.2 columns. A property
test holds the two to the PDP: the filter returns exactly the documents the PDP allows (§9.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from dive.domain.aal import aal_max, effective_aal
from dive.domain.clearance import rank
from dive.domain.inputs import is_present, trim
from dive.domain.subject import clearance_ladder, organization_type, subject_cois, subject_level, subject_problems
from dive.domain.tenants import industry_cap_rank, parse_tenant_settings
from dive.policy.pep_input import build_context, build_subject
from dive.store.models.resources import Resource, ResourceCoi, ResourceReleasability
from dive.types import Level

__all__ = [
    "EMBARGO_SKEW",
    "NoContribution",
    "SubjectFilter",
    "compute_subject_filter",
    "resource_predicate",
    "visible_count_query",
    "visible_facet_query",
    "visible_order",
    "visible_resources_query",
]

EMBARGO_SKEW: Final = timedelta(seconds=300)  # §3.6: the clock-skew allowance
US_ONLY: Final = "US-ONLY"
TOP_RANK: Final = 4


@dataclass(frozen=True, kw_only=True)
class SubjectFilter:
    """The bound parameters of §9.3 for one subject, request time and deciding instance."""

    max_rank: int  # min(rank(slevel), aal_max, cap_rank), §9.1
    country: str
    cois: frozenset[str]
    holds_us_only: bool
    org: str
    now_plus_300s: datetime
    strict: bool


@dataclass(frozen=True, kw_only=True)
class NoContribution:
    """§9.1: a subject-level check failed, so this instance lists nothing; `check` and `message` are the policy's."""

    check: str
    message: str


def compute_subject_filter(
    claims: Mapping[str, object],
    *,
    authenticated: bool,
    tenant: str,
    now: datetime,
    data: Mapping[str, Any],
) -> SubjectFilter | NoContribution:
    """§9.1 for verified token `claims`; `data` is the `data.dive` document the engine evaluates with."""
    subject = build_subject(claims, authenticated=authenticated)
    context = build_context(claims, tenant=tenant, now=now)
    deciding = _deciding_instance(context, data)
    slevel = _checked_subject_level(subject, deciding, data)
    if isinstance(slevel, NoContribution):
        return slevel
    settings = parse_tenant_settings(_path(data, "tenants", deciding))
    country = str(subject["countryOfAffiliation"])  # present and valid: P3 and P4 passed
    org = organization_type(subject)
    cap_rank = industry_cap_rank(country, settings) if org == "INDUSTRY" else TOP_RANK
    aal = effective_aal(context.get("acr"), context.get("amr"))
    cois = subject_cois(subject)
    return SubjectFilter(
        max_rank=min(rank(slevel), aal_max(aal, settings.aal_top_secret), cap_rank),
        country=country,
        cois=cois,
        holds_us_only=US_ONLY in cois,
        org=org,
        now_plus_300s=now + EMBARGO_SKEW,
        strict=settings.strict_coi_coherence,
    )


def resource_predicate(subject: SubjectFilter | NoContribution) -> ColumnElement[bool]:
    """§9.3 over `resources`; the subject's parameters are constants, so SQL keeps only what depends on the row.

    Each clause is one line of §9.3, in its order; an empty COI set renders as an always-false `IN` (D1).
    """
    if isinstance(subject, NoContribution):
        return false()
    r, x, c, cois = Resource, ResourceReleasability, ResourceCoi, sorted(subject.cois)
    releasable = exists().where(x.resource_pk == r.pk, x.country == subject.country)
    holds_all = ~exists().where(c.resource_pk == r.pk, c.coi.not_in(cois))
    holds_one = exists().where(c.resource_pk == r.pk, c.coi.in_(cois))
    return and_(
        r.label_ok.is_(True),
        or_(_constant(not subject.strict), r.label_ok_strict.is_(True)),
        r.integrity_ok.is_(True),
        r.classification_rank <= subject.max_rank,
        releasable,
        or_(r.coi_count == 0, and_(r.coi_operator == "ALL", holds_all), and_(r.coi_operator == "ANY", holds_one)),
        or_(r.has_us_only.is_(False), _constant(subject.holds_us_only and subject.country == "USA")),
        or_(r.creation_ts.is_(None), r.creation_ts <= subject.now_plus_300s),
        or_(_constant(subject.org != "INDUSTRY"), r.releasable_to_industry.is_(True)),
    )


def visible_order() -> tuple[ColumnElement[Any], ...]:
    """CONSISTENCY #5: the label creation date, newest first with undated documents last, then `resourceId`."""
    return (Resource.creation_ts.desc().nulls_last(), Resource.resource_id.asc())


def visible_resources_query(
    subject: SubjectFilter | NoContribution, *, limit: int | None = None, offset: int = 0
) -> Select[tuple[Resource]]:
    """The documents `subject` may read, in the stable order; pages of it concatenate to the unpaginated result."""
    statement = select(Resource).where(resource_predicate(subject)).order_by(*visible_order())
    if offset:
        statement = statement.offset(offset)
    return statement if limit is None else statement.limit(limit)


def visible_count_query(subject: SubjectFilter | NoContribution) -> Select[tuple[int]]:
    """The total behind a page: the same predicate, no order."""
    return select(func.count()).select_from(Resource).where(resource_predicate(subject))


def visible_facet_query(
    subject: SubjectFilter | NoContribution, column: InstrumentedAttribute[Any]
) -> Select[tuple[Any, int]]:
    """Counts per value of a `resources` column (e.g. `Resource.classification`), under the same predicate."""
    return (
        select(column, func.count())
        .select_from(Resource)
        .where(resource_predicate(subject))
        .group_by(column)
        .order_by(column)
    )


def _deciding_instance(context: Mapping[str, object], data: Mapping[str, Any]) -> object:
    """§3 `di`: `context.tenant` when present, otherwise `data.dive.tenant.id`."""
    tenant = context.get("tenant")
    return tenant if is_present(tenant) else _path(data, "tenant", "id")


def _checked_subject_level(
    subject: Mapping[str, object], tenant: object, data: Mapping[str, Any]
) -> Level | NoContribution:
    """`slevel` once the subject-only checks of §9.1 pass; otherwise the first failure in the policy's order, with
    the policy's message (§3.1, §3.2, §3.3, §3.13)."""
    if subject.get("authenticated") is not True:
        return NoContribution(check="authenticated", message="Access denied: the request is not authenticated.")
    problems = subject_problems(subject, _path(data, "countries", "valid") or {})
    if problems:
        text = "; ".join(problems)
        return NoContribution(
            check="required_attributes",
            message=f"Access denied: required attributes are missing or invalid: {text}.",
        )
    slevel = subject_level(subject)
    if slevel is None:
        return _clearance_unrecognized(subject)
    federation = _federation_failure(subject.get("issuer"), tenant, data)
    return slevel if federation is None else NoContribution(check="federation_trusted", message=federation)


def _clearance_unrecognized(subject: Mapping[str, object]) -> NoContribution:
    term = subject.get("clearance")
    ladder = clearance_ladder(subject)
    shown = trim(term) if isinstance(term, str) else term
    return NoContribution(
        check="clearance_sufficient",
        message=f"Access denied: your clearance '{shown}' is not a recognized clearance for "
        f"{ladder if isinstance(ladder, str) else 'unknown'}; ask your administrator to correct it.",
    )


def _federation_failure(issuer: object, tenant: object, data: Mapping[str, Any]) -> str | None:
    """§3.13: a trusted issuer, and the deciding instance is its own or one its users may access."""
    if not is_present(issuer):
        return "Access denied: the request carries no token issuer."
    entry = _path(data, "federation", "trusted_issuers", issuer)
    instance = entry.get("instance") if isinstance(entry, Mapping) else None
    if not is_present(instance):
        return f"Access denied: your identity provider ({issuer}) is not a trusted issuer of this federation."
    if not is_present(tenant):
        return "Access denied: the deciding instance is not configured."
    partners = _path(data, "federation", "matrix", instance)
    if instance == tenant or (isinstance(partners, list) and tenant in partners):
        return None
    return f"Access denied: {instance} has no federation agreement giving its users access to {tenant} resources."


def _path(document: Mapping[str, Any], *names: object) -> Any:
    value: Any = document
    for name in names:
        if not isinstance(value, Mapping) or not isinstance(name, str):
            return None
        value = value.get(name)
    return value


def _constant(value: bool) -> ColumnElement[bool]:
    """A subject-side condition of §9.3, folded by SQLAlchemy out of the surrounding `AND`/`OR`."""
    return true() if value else false()
