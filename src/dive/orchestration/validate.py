"""`dive validate` (spec/orchestration.md §11.3): functional verification of a whole DIVE_HOME.

Rows are OK, WARN, FAIL or SKIP. WARN is kept to the five cases §11.3 lists and a part that is not configured is a
SKIP with its reason, so a healthy deployment shows neither WARN nor FAIL, and a single fault fails exactly one row
(§13.2). The live probes of an instance are the instance checks of §4.5 (`run_instance_checks`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from dive import catalog
from dive.kas.errors import KasError
from dive.orchestration.deploy.checks import run_instance_checks
from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.orchestration.deploy.setup import open_instance_key_store
from dive.orchestration.states import current_state
from dive.orchestration.validate_host import (
    certificates_row,
    disk_row,
    home_row,
    legacy_registry_row,
    monitoring_row,
    port_plan_row,
    ports_free_row,
    python_row,
    redis_row,
    supervisord_row,
)
from dive.orchestration.validation_rows import ValidationRow, merge_rows, row_from_check
from dive.secrets import SecretsError
from dive.secrets.generation import validate_secret
from dive.store import SchemaBehindError, StoreError, check_schema, create_engine_for, writer_session_factory
from dive.store.models.orchestration import DeploymentState
from dive.store.models.registry import FederationLink

__all__ = ["validate_home"]

# §11.3: for a COMPLETE instance, each /health, the realm, the served KAS key and the pdp. The pdp's own /health
# is folded into its `pdp` row, so a stopped pdp fails one row, not two.
_LIVE_CHECKS: Final = ("health.idp", "health.kas", "health.api", "health.web", "realm", "kas", "health.pdp", "pdp")


def validate_home(home: Path, environ: Mapping[str, str]) -> list[ValidationRow]:
    """Every row of §11.3, host-wide first, then per instance (the hub first)."""
    states, orchestration = _orchestration(home, environ)
    codes = _deployed_codes(home, states)
    facts = [instance_facts(home, code, environ) for code in codes]
    rows = [
        python_row(),
        supervisord_row(home),
        home_row(home),
        disk_row(home),
        port_plan_row(catalog.port_shift(environ)),
        ports_free_row(home, environ, codes),
        certificates_row(home, facts),
        orchestration,
        redis_row(environ),
        monitoring_row(home),
        legacy_registry_row(environ),
        _federation(home, environ, codes),
    ]
    for one in facts:
        rows += _instance_rows(one, states)
    return rows


def _orchestration(home: Path, environ: Mapping[str, str]) -> tuple[dict[str, str] | None, ValidationRow]:
    """The recorded state of every instance (None when unreadable) and the `orch-db` row."""
    url = instance_facts(home, catalog.HUB, environ).orchestration_url
    if not (home / "orchestration.db").exists():
        return {}, ValidationRow("orch-db", None, "SKIP", "n/a: no orchestration database yet (nothing deployed)")
    row = _schema_row("orch-db", None, url)
    if row.status == "FAIL":
        return None, row
    engine = create_engine_for(url)
    try:
        with writer_session_factory(engine)() as session:
            codes = set(session.scalars(select(DeploymentState.instance_code).distinct()))
            states = {code: current_state(session, code).state for code in codes}
    except SQLAlchemyError as exc:
        return None, ValidationRow("orch-db", None, "FAIL", f"states unreadable: {type(exc).__name__}")
    finally:
        engine.dispose()
    return states, row


def _schema_row(check_id: str, instance: str | None, url: str) -> ValidationRow:
    """`SELECT 1` and schema at head: behind head is the one WARN (§11.3), anything else failing is FAIL."""
    try:
        status = check_schema(url)
    except SchemaBehindError as exc:
        return ValidationRow(check_id, instance, "WARN", exc.message, "dive orch-db migrate, or redeploy")
    except StoreError as exc:
        return ValidationRow(check_id, instance, "FAIL", exc.message, "restore the database file or redeploy")
    return ValidationRow(check_id, instance, "OK", f"revision {status.revision}, {status.table_count} tables")


def _deployed_codes(home: Path, states: Mapping[str, str] | None) -> list[str]:
    codes = {entry.name for entry in (home / "instances").glob("*") if entry.is_dir()}
    codes |= {code for code, state in (states or {}).items() if state != "UNKNOWN"}
    return sorted(codes, key=lambda code: (code != catalog.HUB, code))


def _federation(home: Path, environ: Mapping[str, str], codes: Sequence[str]) -> ValidationRow:
    """WARN when a link failed its last verification (hub registry, §8.5); SKIP without spokes."""
    hub = instance_facts(home, catalog.HUB, environ)
    if catalog.HUB not in codes or not hub.database_exists:
        return ValidationRow("federation", None, "SKIP", "n/a: no hub deployed")
    engine = create_engine_for(hub.database_url)
    try:
        with writer_session_factory(engine)() as session:
            links = list(session.scalars(select(FederationLink)))
    except SQLAlchemyError as exc:
        return ValidationRow("federation", None, "FAIL", f"the hub registry is unreadable: {type(exc).__name__}")
    finally:
        engine.dispose()
    if not links:
        return ValidationRow("federation", None, "SKIP", "n/a: no spokes")
    failed = [f"{link.source_code.upper()}→{link.target_code.upper()}" for link in links if link.status == "FAILED"]
    if failed:
        detail = f"failed at last verification: {', '.join(failed)}"
        return ValidationRow("federation", None, "WARN", detail, "dive federation status, then federation verify CODE")
    return ValidationRow("federation", None, "OK", f"{len(links)} links, none failed at last verification")


def _instance_rows(facts: InstanceFacts, states: Mapping[str, str] | None) -> list[ValidationRow]:
    rows = [_database(facts), _secrets(facts)]
    state = None if states is None else states.get(facts.code, "UNKNOWN")
    if state != "COMPLETE":
        why = "state unknown: the orchestration database is unreadable" if state is None else f"state is {state}"
        return [*rows, ValidationRow("services", facts.display, "SKIP", f"n/a: {why}; live checks need COMPLETE")]
    return rows + _live_rows(facts)


def _database(facts: InstanceFacts) -> ValidationRow:
    if not facts.database_exists:
        return ValidationRow("db", facts.display, "FAIL", "the instance database does not exist", _redeploy(facts))
    return _schema_row("db", facts.display, facts.database_url)


def _secrets(facts: InstanceFacts) -> ValidationRow:
    specs = facts.secret_specs
    try:
        for spec in specs:
            validate_secret(spec.path, facts.secrets.get(spec.path), spec.kind)
    except SecretsError as exc:
        remedy = f"dive --instance {facts.code} secrets ensure"
        return ValidationRow("secrets", facts.display, "FAIL", exc.message, remedy)
    return ValidationRow("secrets", facts.display, "OK", f"{len(specs)} secrets present and valid")


def _live_rows(facts: InstanceFacts) -> list[ValidationRow]:
    by_id = {result.id: row_from_check(result, facts.display) for result in run_instance_checks(facts, _LIVE_CHECKS)}
    merged = {
        "pdp": merge_rows("pdp", [by_id.pop("health.pdp"), by_id["pdp"]]),
        "kas": merge_rows("kas", [by_id["kas"], _key_store(facts)]),
    }
    return [merged.get(check_id, row) for check_id, row in by_id.items()]


def _key_store(facts: InstanceFacts) -> ValidationRow:
    """The sealed active key in the keystore still is the key the KAS registered: a replaced key file otherwise goes
    unnoticed until the KAS reloads its keys."""
    try:
        store = open_instance_key_store(facts)
        recorded = {info.kid: info.fingerprint for info in store.list_keys()}
        active = store.load_ring().active
    except (StoreError, SecretsError, KasError, OSError) as exc:
        return ValidationRow("kas", facts.display, "FAIL", f"the KAS keys are unusable: {exc}", _rotate(facts))
    if recorded.get(active.kid) != active.fingerprint:
        return ValidationRow(
            "kas", facts.display, "FAIL", f"the sealed key {active.kid} is not the registered key", _rotate(facts)
        )
    return ValidationRow("kas", facts.display, "OK", f"sealed key {active.kid} matches its registration")


def _redeploy(facts: InstanceFacts) -> str:
    return "dive hub deploy" if facts.is_hub else f"dive spoke deploy {facts.code}"


def _rotate(facts: InstanceFacts) -> str:
    return f"restore secrets/kas/{facts.code}/ from a backup, or rotate: dive kas rotate {facts.code}"
