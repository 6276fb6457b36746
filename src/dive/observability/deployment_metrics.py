"""Deployment metrics (orchestration §12.1): the short-lived CLI cannot be scraped, so the hub api exports what the
orchestration database recorded. Values are read at scrape time and cached for 5 s; codes are upper case and the
label is `instance_code`, never `instance` (CONSISTENCY #8, #30)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dive.service.environment import env_flag
from dive.store import StoreError, create_engine_for, session_factory
from dive.store.engine import orchestration_database_url
from dive.store.models.orchestration import STATES, DeploymentState, DeploymentStep, ErrorRecord, PipelineRun
from dive.store.models.registry import FederationLink

__all__ = [
    "DURATION_BUCKETS",
    "DeploymentExport",
    "DeploymentMetricsCollector",
    "DeploymentSnapshot",
    "build_families",
    "load_deployment_export",
    "read_snapshot",
    "register_deployment_metrics",
]

DURATION_BUCKETS: Final = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
CACHE_TTL_S: Final = 5.0
WINDOW: Final = timedelta(days=30)
TOTAL_PHASE: Final = "total"
SEVERITIES: Final[Mapping[int, str]] = {1: "critical", 2: "high", 3: "medium", 4: "low"}  # §7.2
_DEPLOY_KINDS: Final = ("full", "resume")
_OBSERVED_STEPS: Final = ("COMPLETED", "FAILED")

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeploymentExport:
    """Where the exporter reads: the orchestration DB and the api's own DB (its `federation_links`)."""

    orchestration_url: str = field(repr=False)  # may carry a password
    registry_url: str = field(repr=False)


def load_deployment_export(environ: Mapping[str, str], home: Path, registry_url: str) -> DeploymentExport | None:
    """The only reader of `DIVE_ORCH_EXPORT` and `DIVE_ORCH_DATABASE_URL` (default: the embedded orchestration DB)."""
    if not env_flag(environ, "DIVE_ORCH_EXPORT"):
        return None
    url = environ.get("DIVE_ORCH_DATABASE_URL", "").strip() or orchestration_database_url(home)
    return DeploymentExport(orchestration_url=url, registry_url=registry_url)


@dataclass(frozen=True, kw_only=True)
class DeploymentSnapshot:
    """What the orchestration and registry tables say now; codes are upper case."""

    durations: Mapping[tuple[str, str], Sequence[float]]  # (code, phase or "total") -> seconds
    success: Mapping[str, bool]
    states: Mapping[str, str]
    open_errors: Mapping[tuple[str, int], int]  # (code, severity) -> unresolved count
    federation: Mapping[tuple[str, str], bool]  # (source, target) -> link ACTIVE


def build_families(snapshot: DeploymentSnapshot) -> list[Metric]:
    """The five §12.1 families; pure, so tests can compare exact samples."""
    return [
        _duration_family(snapshot.durations),
        _gauge(
            "dive_deployment_success",
            "1 if the latest finished full or resume deployment run succeeded, else 0",
            ("instance_code",),
            {(code,): float(ok) for code, ok in snapshot.success.items()},
        ),
        _gauge(
            "dive_federation_verified",
            "1 if the federation link source -> target is ACTIVE (its last `federation verify` passed)",
            ("source", "target"),
            {pair: float(active) for pair, active in snapshot.federation.items()},
        ),
        _gauge(
            "dive_deployment_state",
            "1 for the current deployment state of an instance, 0 for the others",
            ("instance_code", "state"),
            {(code, state): float(state == current) for code, current in snapshot.states.items() for state in STATES},
        ),
        _open_errors_family(snapshot),
    ]


def _duration_family(durations: Mapping[tuple[str, str], Sequence[float]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "dive_deployment_duration_seconds",
        "Durations of completed or failed deployment phases (phase=total: whole runs) over the last 30 days",
        labels=("instance_code", "phase"),
    )
    for labels, seconds in sorted(durations.items()):
        buckets = [(floatToGoString(bound), float(sum(1 for s in seconds if s <= bound))) for bound in DURATION_BUCKETS]
        buckets.append(("+Inf", float(len(seconds))))
        family.add_metric(list(labels), buckets, sum_value=float(sum(seconds)))
    return family


def _open_errors_family(snapshot: DeploymentSnapshot) -> GaugeMetricFamily:
    codes = set(snapshot.states) | {code for code, _ in snapshot.open_errors}
    values = {
        (code, name): float(snapshot.open_errors.get((code, severity), 0))
        for code in codes
        for severity, name in SEVERITIES.items()
    }
    return _gauge(
        "dive_orchestration_open_errors",
        "Unresolved orchestration errors by severity",
        ("instance_code", "severity"),
        values,
    )


def _gauge(
    name: str, documentation: str, labels: Sequence[str], values: Mapping[tuple[str, ...], float]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


def read_snapshot(orchestration: Session, registry: Session | None, now: datetime) -> DeploymentSnapshot:
    """Query the tables through their indexed columns (instance_code, started_at, seq, run_id)."""
    since = now - WINDOW
    return DeploymentSnapshot(
        durations=_durations(orchestration, since),
        success=_latest_success(orchestration),
        states=_current_states(orchestration),
        open_errors=_open_errors(orchestration),
        federation=_federation(registry) if registry is not None else {},
    )


def _durations(session: Session, since: datetime) -> dict[tuple[str, str], list[float]]:
    observed: dict[tuple[str, str], list[float]] = defaultdict(list)
    steps = (
        select(DeploymentStep.instance_code, DeploymentStep.phase, DeploymentStep.duration_s)
        .join(PipelineRun, PipelineRun.run_id == DeploymentStep.run_id)
        .where(PipelineRun.started_at >= since, DeploymentStep.status.in_(_OBSERVED_STEPS))
        .where(DeploymentStep.duration_s.is_not(None))
    )
    for code, phase, seconds in session.execute(steps):
        observed[(code.upper(), phase)].append(seconds)
    runs = select(PipelineRun.instance_code, PipelineRun.started_at, PipelineRun.finished_at).where(
        PipelineRun.started_at >= since, PipelineRun.kind.in_(_DEPLOY_KINDS), PipelineRun.finished_at.is_not(None)
    )
    for code, started, finished in session.execute(runs):
        observed[(code.upper(), TOTAL_PHASE)].append((finished - started).total_seconds())
    return dict(observed)


def _latest_success(session: Session) -> dict[str, bool]:
    finished = (
        select(PipelineRun.instance_code, PipelineRun.outcome)
        .where(PipelineRun.kind.in_(_DEPLOY_KINDS), PipelineRun.outcome != "RUNNING")
        .order_by(PipelineRun.instance_code, PipelineRun.started_at.desc())
    )
    latest: dict[str, bool] = {}
    for code, outcome in session.execute(finished):
        latest.setdefault(code.upper(), outcome == "SUCCEEDED")
    return latest


def _current_states(session: Session) -> dict[str, str]:
    newest = (
        select(DeploymentState.instance_code, func.max(DeploymentState.seq).label("seq"))
        .group_by(DeploymentState.instance_code)
        .subquery()
    )
    current = select(DeploymentState.instance_code, DeploymentState.state).join(
        newest, (DeploymentState.instance_code == newest.c.instance_code) & (DeploymentState.seq == newest.c.seq)
    )
    return {code.upper(): state for code, state in session.execute(current)}


def _open_errors(session: Session) -> dict[tuple[str, int], int]:
    # Errors without an instance (a failed `nuke all`, say) belong to no series.
    unresolved = (
        select(ErrorRecord.instance_code, ErrorRecord.severity, func.count())
        .where(ErrorRecord.resolved.is_(False), ErrorRecord.instance_code.is_not(None))
        .group_by(ErrorRecord.instance_code, ErrorRecord.severity)
    )
    return {(code.upper(), severity): count for code, severity, count in session.execute(unresolved)}


def _federation(session: Session) -> dict[tuple[str, str], bool]:
    links = select(FederationLink.source_code, FederationLink.target_code, FederationLink.status)
    return {(source.upper(), target.upper()): status == "ACTIVE" for source, target, status in session.execute(links)}


class DeploymentMetricsCollector:
    """A `prometheus_client` custom collector; engines live for one snapshot, so nothing needs closing."""

    def __init__(
        self,
        export: DeploymentExport,
        *,
        ttl_s: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._export, self._ttl_s, self._clock, self._now = export, ttl_s, clock, now
        self._cached: list[Metric] = []
        self._expires = float("-inf")

    def describe(self) -> Iterable[Metric]:
        empty = DeploymentSnapshot(durations={}, success={}, states={}, open_errors={}, federation={})
        return build_families(empty)

    def collect(self) -> Iterable[Metric]:
        if self._clock() >= self._expires:
            self._cached = self._read()
            self._expires = self._clock() + self._ttl_s
        return self._cached

    def _read(self) -> list[Metric]:
        try:
            orchestration = create_engine_for(self._export.orchestration_url)
            registry = create_engine_for(self._export.registry_url)
        except StoreError as exc:
            log.warning("deployment metrics unavailable", extra={"error": exc.message})
            return []
        try:
            with session_factory(orchestration)() as orch, session_factory(registry)() as reg:
                return build_families(read_snapshot(orch, reg, self._now()))
        except SQLAlchemyError as exc:  # a scrape must still answer: the series are absent until the DB is back
            log.warning("deployment metrics unavailable", extra={"error": type(exc).__name__})
            return []
        finally:
            orchestration.dispose()
            registry.dispose()


def register_deployment_metrics(
    registry: CollectorRegistry, environ: Mapping[str, str], home: Path, registry_url: str
) -> DeploymentMetricsCollector | None:
    """Register the collector when the deployer asked this api to export (`DIVE_ORCH_EXPORT=1`)."""
    export = load_deployment_export(environ, home, registry_url)
    if export is None:
        return None
    collector = DeploymentMetricsCollector(export)
    registry.register(collector)
    return collector
