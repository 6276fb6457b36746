"""SERVICES (spec/orchestration.md §4.3 #4) and KAS (#6): the supervisor group started health-gated, and the own
KAS serving the active key that the registry lists."""

from __future__ import annotations

import time
from typing import Final

import httpx
from sqlalchemy import select

from dive import catalog
from dive.kas.key_ring import public_key_fingerprint
from dive.orchestration import runtime
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.orchestration.monitoring import refresh_monitoring
from dive.orchestration.phases import Check
from dive.orchestration.supervisor_config import HEALTH_PATHS
from dive.pki import PkiError, ca_bundle_path, ssl_context_for
from dive.store import StoreError, create_engine_for, session_factory
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.ztdf import load_public_key

__all__ = ["kas_check", "probe_health", "run_kas", "run_services", "services_check", "stop_services"]

_PROBE_TIMEOUT_S: Final = 2.0
_KAS_RELOAD_S: Final = 10.0  # the KAS re-reads its keys within 5 s (ztdf-kas §10)


def run_services(facts: InstanceFacts) -> str:
    supervisor = runtime.Supervisor(facts.home)
    programs = facts.programs()
    supervisor.ensure_running()
    supervisor.apply_group(facts.code, programs)
    supervisor.start_group(facts.code, programs, facts.environ)
    monitoring_problem = refresh_monitoring(facts.home, facts.environ)  # §12.2: non-fatal
    return f"{' '.join(facts.services)} healthy" + (f"; {monitoring_problem}" if monitoring_problem else "")


def stop_services(facts: InstanceFacts) -> None:
    supervisor = runtime.Supervisor(facts.home)
    if supervisor.is_running():
        supervisor.stop_group(facts.code, facts.programs())


def services_check(facts: InstanceFacts) -> Check:
    supervisor = runtime.Supervisor(facts.home)
    if not supervisor.is_running():
        return Check(False, "supervisord is not running")
    group = catalog.supervisor_group(facts.code)
    states = {row.program: row.state for row in supervisor.process_table() if row.group == group}
    for service in facts.services:
        state = states.get(f"{group}-{service}", "ABSENT")
        if state != "RUNNING":
            return Check(False, f"{service} is {state}")
    unhealthy = [service for service in facts.services if probe_health(facts, service)[0] != 200]
    if unhealthy:
        return Check(False, f"not healthy: {' '.join(unhealthy)}")
    return Check(True, f"{' '.join(facts.services)} healthy")


def probe_health(facts: InstanceFacts, service: str) -> tuple[int | None, float]:
    """(HTTP status or None when unreachable, latency in ms) of the service's health gate (§3.4)."""
    url = f"https://127.0.0.1:{facts.port(service)}{HEALTH_PATHS[service]}"
    started = time.perf_counter()
    try:
        with httpx.Client(verify=ssl_context_for(ca_bundle_path(facts.home)), timeout=_PROBE_TIMEOUT_S) as client:
            status: int | None = client.get(url).status_code
    except (httpx.TransportError, OSError, PkiError):  # unreachable, or no CA bundle yet: not healthy
        status = None
    return status, round((time.perf_counter() - started) * 1000, 1)


def run_kas(facts: InstanceFacts) -> str:
    deadline = time.monotonic() + _KAS_RELOAD_S
    while not (check := kas_check(facts)).ok:
        if time.monotonic() > deadline:
            raise PhaseError("kas_key_not_served", check.reason, remediation=f"dive logs {facts.code} kas")
        time.sleep(0.5)
    return check.reason


def kas_check(facts: InstanceFacts) -> Check:
    """§4.3 #6: the own registry row is approved and its active key's fingerprint equals the served key's."""
    try:
        registered = _registered_active_key(facts)
    except StoreError as exc:
        return Check(False, exc.message)
    if registered is None:
        return Check(False, f"{catalog.kas_id(facts.code)} has no approved registry row with an active key")
    kid, fingerprint = registered
    url = f"{facts.url('kas')}/kas/v2/kas_public_key?algorithm=rsa:2048"
    try:
        with httpx.Client(verify=ssl_context_for(ca_bundle_path(facts.home)), timeout=_PROBE_TIMEOUT_S) as client:
            response = client.get(url)
    except (httpx.TransportError, PkiError) as exc:
        return Check(False, f"the KAS is unreachable: {exc}")
    if response.status_code != 200:
        return Check(False, f"the KAS public key answered HTTP {response.status_code}")
    served = response.json()
    served_fingerprint = public_key_fingerprint(load_public_key(str(served["publicKey"]).encode()))
    if served.get("kid") != kid or served_fingerprint != fingerprint:
        return Check(False, f"the KAS serves {served.get('kid')}, the registry lists {kid}")
    return Check(True, f"{catalog.kas_id(facts.code)} registered (RSA-2048 {fingerprint[:4]}…{fingerprint[-4:]})")


def _registered_active_key(facts: InstanceFacts) -> tuple[str, str] | None:
    if not facts.database_exists:
        return None
    engine = create_engine_for(facts.database_url)
    try:
        with session_factory(engine)() as session:
            kas_id = catalog.kas_id(facts.code)
            entry = session.get(KasRegistryEntry, kas_id)
            if entry is None or entry.status != "approved":
                return None
            query = select(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id, KasRegistryKey.status == "active")
            key = session.scalars(query).first()
            return (key.kid, key.fingerprint) if key is not None else None
    finally:
        engine.dispose()
