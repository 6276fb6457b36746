"""The deployment metrics exporter (orchestration §12.1) on rows inserted into a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy.orm import Session, sessionmaker

from dbfixtures import sqlite_url
from dive.observability.deployment_metrics import (
    DeploymentExport,
    DeploymentMetricsCollector,
    load_deployment_export,
    register_deployment_metrics,
)
from dive.service.errors import SettingsError
from dive.store import create_engine_for, ensure_schema, writer_session_factory
from dive.store.models.orchestration import DeploymentState, DeploymentStep, ErrorRecord, PipelineRun
from dive.store.models.registry import FederationLink

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path, "orchestration.db")
    ensure_schema(url, lock_dir=tmp_path / "locks")
    return url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine_for(database_url)
    try:
        yield writer_session_factory(engine)
    finally:
        engine.dispose()


class Clock:
    """A monotonic clock the test moves by hand, so the 5 s cache is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(run_id: str, code: str, *, kind: str = "full", outcome: str, started: datetime, seconds: float) -> PipelineRun:
    finished = None if outcome == "RUNNING" else started + timedelta(seconds=seconds)
    return PipelineRun(
        run_id=run_id,
        instance_code=code,
        command=f"deploy {code}",
        kind=kind,
        outcome=outcome,
        started_at=started,
        finished_at=finished,
    )


def _step(run_id: str, code: str, phase: str, ordinal: int, status: str, seconds: float | None) -> DeploymentStep:
    return DeploymentStep(
        run_id=run_id, instance_code=code, phase=phase, ordinal=ordinal, status=status, duration_s=seconds
    )


def _state(code: str, seq: int, previous: str, state: str) -> DeploymentState:
    return DeploymentState(instance_code=code, seq=seq, previous_state=previous, state=state, metadata_={})


def _error(code: str | None, severity: int, *, resolved: bool = False) -> ErrorRecord:
    return ErrorRecord(
        instance_code=code,
        error_code="SERVICE_HEALTH_TIMEOUT",
        severity=severity,
        message="api did not become healthy",
        created_at=NOW - timedelta(hours=1),
        resolved=resolved,
        resolved_at=NOW if resolved else None,
    )


@pytest.fixture
def recorded(sessions: sessionmaker[Session]) -> None:
    """USA: an old run (outside 30 days), then a failed and a succeeded full run; FRA: one failed run, then a
    partial run that must not count; DEU: a run still going."""
    old, day = NOW - timedelta(days=40), NOW - timedelta(days=1)
    with sessions.begin() as session:
        session.add_all(
            [
                _run("usa-old", "usa", outcome="SUCCEEDED", started=old, seconds=900),
                _run("usa-1", "usa", outcome="FAILED", started=day, seconds=30),
                _run("usa-2", "usa", kind="resume", outcome="SUCCEEDED", started=day + timedelta(hours=1), seconds=90),
                _run("fra-1", "fra", outcome="FAILED", started=day, seconds=4),
                _run("fra-2", "fra", kind="partial", outcome="SUCCEEDED", started=day + timedelta(hours=2), seconds=1),
                _run("deu-1", "deu", outcome="RUNNING", started=NOW - timedelta(minutes=1), seconds=0),
            ]
        )
        session.flush()
        session.add_all(
            [
                _step("usa-old", "usa", "PREFLIGHT", 1, "COMPLETED", 0.2),
                _step("usa-1", "usa", "PREFLIGHT", 1, "COMPLETED", 0.3),
                _step("usa-1", "usa", "SERVICES", 4, "FAILED", 25.0),
                _step("usa-2", "usa", "PREFLIGHT", 1, "COMPLETED", 0.7),
                _step("usa-2", "usa", "SERVICES", 4, "COMPLETED", 8.0),
                _step("usa-2", "usa", "SEEDING", 7, "SKIPPED", None),
                _step("fra-1", "fra", "PREFLIGHT", 1, "IN_PROGRESS", None),
            ]
        )
        session.add_all(
            [
                _state("usa", 1, "UNKNOWN", "INITIALIZING"),
                _state("usa", 2, "INITIALIZING", "DEPLOYING"),
                _state("usa", 3, "DEPLOYING", "FAILED"),
                _state("usa", 4, "FAILED", "INITIALIZING"),
                _state("usa", 5, "INITIALIZING", "DEPLOYING"),
                _state("usa", 6, "DEPLOYING", "CONFIGURING"),
                _state("usa", 7, "CONFIGURING", "VERIFYING"),
                _state("usa", 8, "VERIFYING", "COMPLETE"),
                _state("fra", 1, "UNKNOWN", "INITIALIZING"),
                _state("fra", 2, "INITIALIZING", "FAILED"),
            ]
        )
        session.add_all([_error("fra", 1), _error("fra", 1), _error("fra", 2), _error("usa", 1, resolved=True)])
        session.add_all([_error(None, 3)])
        session.add_all(
            [
                FederationLink(
                    source_code="fra", target_code="usa", direction="spoke_to_hub", idp_alias="fra-idp",
                    client_id="dive-v3-broker-usa", status="ACTIVE",
                ),
                FederationLink(
                    source_code="usa", target_code="fra", direction="hub_to_spoke", idp_alias="usa-idp",
                    client_id="dive-v3-broker-fra", status="FAILED",
                ),
            ]
        )  # fmt: skip


def _collector(database_url: str, clock: Clock | None = None) -> DeploymentMetricsCollector:
    export = DeploymentExport(orchestration_url=database_url, registry_url=database_url)
    return DeploymentMetricsCollector(export, clock=clock or Clock(), now=lambda: NOW)


def _samples(collector: DeploymentMetricsCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in collector.collect()
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.mark.usefixtures("recorded")
def test_duration_histogram_counts_completed_and_failed_steps_of_the_last_30_days(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    def bucket(phase: str, le: str) -> float:
        return _value(samples, "dive_deployment_duration_seconds_bucket", instance_code="USA", phase=phase, le=le)

    assert [bucket("PREFLIGHT", le) for le in ("0.5", "1.0", "+Inf")] == [1.0, 2.0, 2.0]
    assert _value(samples, "dive_deployment_duration_seconds_sum", instance_code="USA", phase="PREFLIGHT") == 1.0
    assert [bucket("SERVICES", le) for le in ("5.0", "10.0", "20.0", "30.0", "600.0", "+Inf")] == [
        0.0, 1.0, 1.0, 2.0, 2.0, 2.0,
    ]  # fmt: skip
    assert _value(samples, "dive_deployment_duration_seconds_count", instance_code="USA", phase="SERVICES") == 2.0
    phases = {dict(labels)["phase"] for name, labels in samples if name == "dive_deployment_duration_seconds_count"}
    assert phases == {"PREFLIGHT", "SERVICES", "total"}  # SKIPPED and IN_PROGRESS steps are not observations


@pytest.mark.usefixtures("recorded")
def test_total_phase_observes_full_and_resume_runs_but_not_partial_or_running_ones(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    assert _value(samples, "dive_deployment_duration_seconds_count", instance_code="USA", phase="total") == 2.0
    assert _value(samples, "dive_deployment_duration_seconds_sum", instance_code="USA", phase="total") == 120.0
    assert _value(samples, "dive_deployment_duration_seconds_count", instance_code="FRA", phase="total") == 1.0
    assert ("dive_deployment_duration_seconds_count", (("instance_code", "DEU"), ("phase", "total"))) not in samples


@pytest.mark.usefixtures("recorded")
def test_success_follows_the_latest_finished_full_or_resume_run(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    success = {
        dict(labels)["instance_code"]: v for (name, labels), v in samples.items() if name == "dive_deployment_success"
    }
    assert success == {"USA": 1.0, "FRA": 0.0}  # FRA's partial run does not count; DEU has not finished one


@pytest.mark.usefixtures("recorded")
def test_state_gauge_is_one_for_the_current_state_only(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    usa = {
        dict(labels)["state"]: value
        for (name, labels), value in samples.items()
        if name == "dive_deployment_state" and ("instance_code", "USA") in labels
    }
    assert usa["COMPLETE"] == 1.0 and sum(usa.values()) == 1.0 and len(usa) == 9
    assert _value(samples, "dive_deployment_state", instance_code="FRA", state="FAILED") == 1.0


@pytest.mark.usefixtures("recorded")
def test_open_errors_count_unresolved_errors_per_instance_and_severity(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    errors = {
        tuple(v for _, v in labels): value
        for (name, labels), value in samples.items()
        if name == "dive_orchestration_open_errors" and value
    }
    assert errors == {("FRA", "critical"): 2.0, ("FRA", "high"): 1.0}
    assert _value(samples, "dive_orchestration_open_errors", instance_code="USA", severity="critical") == 0.0


@pytest.mark.usefixtures("recorded")
def test_federation_verified_is_one_only_for_active_links(database_url: str) -> None:
    samples = _samples(_collector(database_url))

    assert _value(samples, "dive_federation_verified", source="FRA", target="USA") == 1.0
    assert _value(samples, "dive_federation_verified", source="USA", target="FRA") == 0.0


@pytest.mark.usefixtures("recorded")
def test_results_are_cached_for_five_seconds(database_url: str, sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    collector = _collector(database_url, clock)
    _samples(collector)
    with sessions.begin() as session:
        session.add(_state("fra", 3, "FAILED", "INITIALIZING"))

    clock.now += 4.9
    assert _value(_samples(collector), "dive_deployment_state", instance_code="FRA", state="FAILED") == 1.0
    clock.now += 0.2
    assert _value(_samples(collector), "dive_deployment_state", instance_code="FRA", state="INITIALIZING") == 1.0


def test_empty_database_exports_type_lines_but_no_samples(database_url: str) -> None:
    registry = CollectorRegistry()
    registry.register(_collector(database_url))

    text = generate_latest(registry).decode()
    assert "# TYPE dive_deployment_duration_seconds histogram" in text
    assert "# TYPE dive_deployment_success gauge" in text
    assert "dive_deployment_success{" not in text


def test_unreadable_database_answers_the_scrape_without_deployment_series(tmp_path: Path) -> None:
    missing = sqlite_url(tmp_path / "not-a-db", "orchestration.db")
    (tmp_path / "not-a-db" / "orchestration.db").parent.mkdir()
    (tmp_path / "not-a-db" / "orchestration.db").write_text("this is not SQLite")

    assert list(_collector(missing).collect()) == []


def test_export_is_registered_only_when_the_deployer_asks(tmp_path: Path, database_url: str) -> None:
    registry = CollectorRegistry()

    assert register_deployment_metrics(registry, {}, tmp_path, database_url) is None
    assert register_deployment_metrics(registry, {"DIVE_ORCH_EXPORT": "1"}, tmp_path, database_url) is not None
    assert "# TYPE dive_deployment_state gauge" in generate_latest(registry).decode()


def test_export_defaults_to_the_embedded_orchestration_database(tmp_path: Path) -> None:
    export = load_deployment_export({"DIVE_ORCH_EXPORT": "1"}, tmp_path, "sqlite:///x.db")

    assert export is not None and export.orchestration_url == f"sqlite:///{tmp_path / 'orchestration.db'}"
    explicit = load_deployment_export(
        {"DIVE_ORCH_EXPORT": "1", "DIVE_ORCH_DATABASE_URL": "postgresql://db/orchestration"}, tmp_path, "x"
    )
    assert explicit is not None and explicit.orchestration_url == "postgresql://db/orchestration"


def test_export_flag_with_a_bad_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DIVE_ORCH_EXPORT"):
        load_deployment_export({"DIVE_ORCH_EXPORT": "yes"}, tmp_path, "x")
