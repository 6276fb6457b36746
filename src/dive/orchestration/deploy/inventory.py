"""What is deployed under a DIVE_HOME and how it is doing (spec/orchestration.md §11): the documents of `status`
(`dive.status/1`), `health` (`dive.health/1`) and `ps` (`dive.ps/1`), built from live probes and the DB."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from dive import catalog
from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.orchestration.deploy.postgres import orchestration_database_exists
from dive.orchestration.deploy.redis_keys import ping_redis
from dive.orchestration.deploy.seeding import count_seeded
from dive.orchestration.deploy.services import probe_health
from dive.orchestration.errors import PhaseError
from dive.orchestration.events import iso_z
from dive.orchestration.locks import read_holder
from dive.orchestration.states import current_state
from dive.store import StoreError, create_engine_for, safe_url, writer_session_factory
from dive.store.models.orchestration import DeploymentState, ErrorRecord, PipelineRun

__all__ = ["health_document", "known_instances", "open_existing_orchestration_db", "ps_document", "status_document"]

_SERVICES: Final = ("pdp", "idp", "kas", "api", "web")


def open_existing_orchestration_db(home: Path, environ: Mapping[str, str]) -> Engine | None:
    """The orchestration DB if it exists; status and health never create one."""
    facts = instance_facts(home, catalog.HUB, environ)
    if not orchestration_database_exists(home, environ):
        return None
    return create_engine_for(facts.orchestration_url)


def known_instances(home: Path, engine: Engine | None) -> list[str]:
    """Every instance with a state row or an instance directory, the hub first."""
    codes = {entry.name for entry in (home / "instances").glob("*") if entry.is_dir()}
    if engine is not None:
        with writer_session_factory(engine)() as session:
            codes |= set(session.scalars(select(DeploymentState.instance_code).distinct()))
    return sorted(codes, key=lambda code: (code != catalog.HUB, code))


def _supervisor_rows(home: Path) -> tuple[runtime.Supervisor, list[runtime.ProcessRow]]:
    supervisor = runtime.Supervisor(home)
    return supervisor, supervisor.process_table() if supervisor.is_running() else []


def _service_rows(facts: InstanceFacts, rows: list[runtime.ProcessRow]) -> dict[str, dict[str, Any]]:
    group = catalog.supervisor_group(facts.code)
    by_program = {row.program: row for row in rows if row.group == group}

    def one(service: str) -> tuple[str, dict[str, Any]]:
        row = by_program.get(f"{group}-{service}")
        running = row is not None and row.state == "RUNNING"
        status_code, latency = probe_health(facts, service) if running else (None, None)
        status = "stopped" if not running else ("healthy" if status_code == 200 else "unhealthy")
        return service, {
            "status": status,
            "pid": row.pid if row else None,
            "port": facts.port(service),
            "latency_ms": latency,
            "uptime_s": row.uptime_s if row else None,
            "http_status": status_code,
        }

    with ThreadPoolExecutor(max_workers=5) as pool:
        return dict(pool.map(one, facts.services))


def status_document(home: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    engine = open_existing_orchestration_db(home, environ)
    supervisor, rows = _supervisor_rows(home)
    try:
        instances = [
            _instance_status(instance_facts(home, c, environ), engine, rows) for c in known_instances(home, engine)
        ]
        orchestration = _orchestration_summary(engine)
    finally:
        if engine is not None:
            engine.dispose()
    return {
        "schema": "dive.status/1",
        "generated_at": iso_z(dt.datetime.now(dt.UTC)),
        "dive_home": str(home),
        "env": (environ.get("DIVE_ENV") or "local"),
        "supervisor": {"running": bool(rows) or supervisor.is_running(), "pid": supervisor.pid()},
        "orchestration_db": orchestration,
        "instances": instances,
    }


def _orchestration_summary(engine: Engine | None) -> dict[str, Any]:
    if engine is None:
        return {"url_redacted": None, "reachable": False, "revision": None, "tables": 0}
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            tables = len(inspect(connection).get_table_names())
    except SQLAlchemyError as exc:  # reported as unreachable, never raised from a status view
        return {
            "url_redacted": safe_url(engine.url),
            "reachable": False,
            "revision": None,
            "tables": 0,
            "error": type(exc).__name__,
        }
    return {"url_redacted": safe_url(engine.url), "reachable": True, "revision": revision, "tables": int(tables or 0)}


def _instance_status(facts: InstanceFacts, engine: Engine | None, rows: list[runtime.ProcessRow]) -> dict[str, Any]:
    services = _service_rows(facts, rows)
    state, since, last_run, errors, lock = "UNKNOWN", None, None, [], None
    if engine is not None:
        with writer_session_factory(engine)() as session:
            current = current_state(session, facts.code)
            state, since = current.state, current.since
            last_run = _last_run(session, facts.code)
            errors = _open_errors(session, facts.code)
        holder = read_holder(engine, facts.home, facts.code)
        if holder is not None:
            lock = {**holder.as_detail(), "alive": holder.is_alive()}
    try:
        documents: int | None = count_seeded(facts) if facts.database_exists else None
    except StoreError:
        documents = None
    healthy = sum(1 for s in services.values() if s["status"] == "healthy")
    return {
        "code": facts.display,
        "role": "hub" if facts.is_hub else "spoke",
        "state": state,
        "state_since": iso_z(since) if isinstance(since, dt.datetime) else None,
        "lock": lock,
        "services": {name: {k: v for k, v in row.items() if k != "http_status"} for name, row in services.items()},
        "healthy": healthy,
        "total": len(services),
        "federation": None,
        "documents": documents,
        "last_run": last_run,
        "open_errors": errors,
        "ports": {service: facts.port(service) for service in _SERVICES},
    }


def _last_run(session: Any, code: str) -> dict[str, Any] | None:
    query = select(PipelineRun).where(PipelineRun.instance_code == code).order_by(PipelineRun.started_at.desc())
    run = session.scalars(query).first()
    if run is None:
        return None
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "run_id": run.run_id,
        "command": run.command,
        "kind": run.kind,
        "outcome": run.outcome,
        "failed_phase": run.failed_phase,
        "started_at": iso_z(run.started_at),
        "duration_s": round(duration, 1) if duration is not None else None,
    }


def _open_errors(session: Any, code: str) -> list[dict[str, Any]]:
    query = select(ErrorRecord).where(ErrorRecord.instance_code == code, ErrorRecord.resolved.is_(False))
    return [
        {
            "code": e.error_code,
            "severity": e.severity,
            "message": e.message,
            "remediation": e.remediation,
            "created_at": iso_z(e.created_at),
        }
        for e in session.scalars(query)
    ]


def health_document(home: Path, environ: Mapping[str, str], codes: list[str] | None = None) -> dict[str, Any]:
    engine = open_existing_orchestration_db(home, environ)
    _supervisor, rows = _supervisor_rows(home)
    try:
        selected = codes if codes is not None else known_instances(home, engine)
    finally:
        if engine is not None:
            engine.dispose()
    instances = []
    for code in selected:
        facts = instance_facts(home, code, environ)
        services = _service_rows(facts, rows)
        all_ok = all(s["status"] == "healthy" for s in services.values())
        none_ok = not any(s["status"] == "healthy" for s in services.values())
        instances.append(
            {
                "code": facts.display,
                "status": "healthy" if all_ok else ("unhealthy" if none_ok else "degraded"),
                "services": {
                    name: {
                        "healthy": s["status"] == "healthy",
                        "http_status": s["http_status"],
                        "latency_ms": s["latency_ms"],
                    }
                    for name, s in services.items()
                },
                "db": _database_health(facts),
                "redis": _redis_health(facts),
            }
        )
    statuses = {i["status"] for i in instances}
    overall = (
        "healthy"
        if statuses <= {"healthy"} and instances
        else ("unhealthy" if statuses == {"unhealthy"} or not instances else "degraded")
    )
    return {
        "schema": "dive.health/1",
        "timestamp": iso_z(dt.datetime.now(dt.UTC)),
        "status": overall,
        "instances": instances,
    }


def _database_health(facts: InstanceFacts) -> dict[str, Any]:
    started = time.perf_counter()
    if not facts.database_exists:
        return {"ok": False, "latency_ms": None}  # connecting would create an embedded file
    engine = create_engine_for(facts.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        ok = True
    except SQLAlchemyError:
        ok = False
    finally:
        engine.dispose()
    return {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _redis_health(facts: InstanceFacts) -> dict[str, bool | None]:
    if facts.redis_url is None:
        return {"ok": None}  # embedded in-process caches
    try:
        ping_redis(facts.redis_url)
    except PhaseError:
        return {"ok": False}
    return {"ok": True}


def ps_document(home: Path, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    _supervisor, rows = _supervisor_rows(home)
    document = []
    for row in rows:
        code = catalog.HUB if row.group == "hub" else row.group
        service = row.program.rsplit("-", 1)[-1]
        facts = instance_facts(home, code, environ)
        status, _latency = probe_health(facts, service) if row.state == "RUNNING" else (None, None)
        document.append(
            {
                "instance": facts.display,
                "service": service,
                "program": row.program,
                "state": row.state,
                "pid": row.pid,
                "uptime_s": row.uptime_s,
                "port": facts.port(service),
                "health": "healthy" if status == 200 else ("unhealthy" if row.state == "RUNNING" else None),
            }
        )
    return document
