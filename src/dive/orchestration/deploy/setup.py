"""INITIALIZATION and DATABASE (spec/orchestration.md §4.3 #2–#3): directories, CA and certificates, secrets,
the rendered `config.json`; the instance database at head and the instance's active KAS key."""

from __future__ import annotations

import datetime as dt
import json
import stat
from typing import Final

from dive import catalog
from dive.kas.errors import KasError
from dive.kas.key_store import KasKeyStore
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.orchestration_reader import provision_orchestration_reader
from dive.orchestration.deploy.postgres import provision_instance_database
from dive.orchestration.deploy.seeding import remember_seed_options
from dive.orchestration.errors import PhaseError
from dive.orchestration.phases import Check
from dive.pki import ensure_ca, ensure_service_certificate, service_certificate_paths
from dive.pki.certificates import certificate_not_after
from dive.pki.errors import PkiError
from dive.secrets import SecretsError
from dive.secrets.generation import ensure_secrets, validate_secret
from dive.store import StoreError, check_schema, create_engine_for, ensure_schema, writer_session_factory

__all__ = [
    "database_check",
    "initialization_check",
    "open_instance_key_store",
    "run_database",
    "run_initialization",
    "write_config",
]

_MIN_VALIDITY: Final = dt.timedelta(days=7)
_SUBDIRECTORIES: Final = ("data", "logs", "certs", "runs")


def run_initialization(facts: InstanceFacts) -> str:
    for directory in (facts.home, facts.directory, *(facts.directory / name for name in _SUBDIRECTORIES)):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
    try:
        ensure_ca(facts.home)
        for service in catalog.SERVICES:
            ensure_service_certificate(facts.home, facts.code, service, facts.host)
        created = ensure_secrets(facts.secrets, facts.secret_specs)
    except (PkiError, SecretsError) as exc:
        raise PhaseError(exc.code, str(exc)) from exc
    remember_seed_options(facts)
    write_config(facts)
    return f"CA ready; {len(catalog.SERVICES)} certificates valid; {len(created)} secrets generated"


def write_config(facts: InstanceFacts) -> None:
    """Render `instances/<c>/config.json` (0600, atomically): settings plus their sha256 (§1.3)."""
    temporary = facts.config_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(facts.rendered_config(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(facts.config_path)


def initialization_check(facts: InstanceFacts) -> Check:
    for directory in (facts.home, facts.directory):
        if not directory.is_dir() or stat.S_IMODE(directory.stat().st_mode) != 0o700:
            return Check(False, f"{directory} is missing or not 0700")
    now = dt.datetime.now(dt.UTC)
    for service in catalog.SERVICES:
        cert, key = service_certificate_paths(facts.home, facts.code, service)
        if not (cert.exists() and key.exists()) or certificate_not_after(cert) - now < _MIN_VALIDITY:
            return Check(False, f"the {service} certificate is missing or expires within 7 days")
    try:
        for spec in facts.secret_specs:
            validate_secret(spec.path, facts.secrets.get(spec.path), spec.kind)
        fresh = facts.rendered_config()["sha256"]
    except SecretsError as exc:
        return Check(False, exc.message)
    try:
        stored = json.loads(facts.config_path.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError):
        return Check(False, "config.json is missing or unreadable")
    if stored != fresh:
        return Check(False, "config.json differs from a fresh render")
    return Check(True, "directories, certificates, secrets and config are in place")


def open_instance_key_store(facts: InstanceFacts) -> KasKeyStore:
    sessions = writer_session_factory(create_engine_for(facts.database_url))
    return KasKeyStore(
        home=facts.home, code=facts.code, sessions=sessions, secrets=facts.secrets, kas_url=facts.kas_url
    )


def run_database(facts: InstanceFacts) -> str:
    try:
        provisioned = provision_instance_database(facts)  # PostgreSQL: role and database dive_<c> (§1.2)
        status = ensure_schema(facts.database_url, lock_dir=facts.home / "locks")
        if facts.exports_deployment_metrics:  # after the orchestration migrations, which run before any lock
            provisioned = "; ".join(filter(None, [provisioned, provision_orchestration_reader(facts)]))
        key = open_instance_key_store(facts).ensure_active_key()
    except (StoreError, KasError) as exc:
        raise PhaseError(exc.code, str(exc)) from exc
    schema = f"schema at head {status.head} ({status.table_count} tables); KAS key {key.kid}"
    return f"{provisioned}; {schema}" if provisioned else schema


def database_check(facts: InstanceFacts) -> Check:
    if not facts.database_exists:
        return Check(False, "the instance database does not exist yet")
    try:
        status = check_schema(facts.database_url)
        keys = open_instance_key_store(facts).list_keys()
    except (StoreError, KasError) as exc:
        return Check(False, str(exc))
    if not any(key.status == "active" for key in keys):
        return Check(False, "no active KAS key")
    return Check(True, f"schema at head {status.head} ({status.table_count} tables)")
