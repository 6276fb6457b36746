"""The instance checks (spec/orchestration.md §4.5) behind `hub verify`, `spoke verify` and VERIFICATION: live probes
of the databases, supervisor, health gates, realm, OIDC discovery, a real token, the pdp, the KAS and the documents."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final, Literal

import httpx

from dive import catalog
from dive.orchestration.deploy.idp_admin import IdpAdmin
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.deploy.postgres import orchestration_database_exists
from dive.orchestration.deploy.redis_keys import ping_redis
from dive.orchestration.deploy.seeding import count_seeded
from dive.orchestration.deploy.services import kas_check, probe_health, services_check
from dive.orchestration.errors import OrchestrationError
from dive.orchestration.phases import Check
from dive.orchestration.supervisor_config import TIERS
from dive.store import StoreError, check_schema

__all__ = ["CheckResult", "run_instance_checks"]

Status = Literal["pass", "fail", "skip"]
_ALL_SERVICES: Final = tuple(service for tier in TIERS for service in tier)


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    detail: str
    remediation: str | None
    duration_ms: float


def run_instance_checks(facts: InstanceFacts, only: Collection[str] | None = None) -> list[CheckResult]:
    """The checks of §4.5 in order; `only` selects check ids (`dive validate` runs the live subset, §11.3)."""
    results = []
    with IdpAdmin(facts) as admin:
        probes: list[tuple[str, Callable[[], tuple[Status, str]]]] = [
            ("orch-db", lambda: _orchestration_schema(facts)),
            ("db", lambda: _schema(facts.database_url, facts.database_exists)),
            ("redis", lambda: _redis(facts)),
            ("supervisor", lambda: _from_check(services_check(facts))),
            *((f"health.{service}", _health(facts, service)) for service in _ALL_SERVICES),
            ("realm", lambda: _realm(admin)),
            ("oidc", lambda: _oidc(facts, admin)),
            ("token", lambda: _token(facts, admin)),
            ("pdp", lambda: _pdp(facts, admin)),
            ("kas", lambda: _from_check(kas_check(facts))),
            ("documents", lambda: _documents(facts)),
        ]
        for check_id, probe in probes:
            if only is not None and check_id not in only:
                continue
            started = time.perf_counter()
            try:
                status, detail = probe()
            except OrchestrationError as exc:
                status, detail = "fail", exc.message
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            results.append(CheckResult(check_id, status, detail, _remedy(facts, check_id, status), elapsed))
    return results


def _remedy(facts: InstanceFacts, check_id: str, status: Status) -> str | None:
    if status != "fail":
        return None
    command = "hub deploy" if facts.is_hub else f"spoke deploy {facts.code}"
    return f"dive {command} --resume (details: dive logs {facts.code})"


def _from_check(check: Check) -> tuple[Status, str]:
    return ("pass" if check.ok else "fail"), check.reason


def _schema(url: str, exists: bool) -> tuple[Status, str]:
    if not exists:
        return "fail", "the database does not exist"
    try:
        status = check_schema(url)
    except StoreError as exc:
        return "fail", exc.message
    return "pass", f"revision {status.revision}, {status.table_count} tables"


def _orchestration_schema(facts: InstanceFacts) -> tuple[Status, str]:
    return _schema(facts.orchestration_url, orchestration_database_exists(facts.home, facts.environ))


def _redis(facts: InstanceFacts) -> tuple[Status, str]:
    """§4.5 #3; a failure raises PhaseError (an OrchestrationError), which the loop records as `fail`."""
    if facts.redis_url is None:
        return "skip", "n/a: embedded cache"
    return "pass", ping_redis(facts.redis_url)


def _health(facts: InstanceFacts, service: str) -> Callable[[], tuple[Status, str]]:
    def probe() -> tuple[Status, str]:
        if service not in facts.services:
            return "skip", f"n/a: {service} is not in this build"
        status, latency = probe_health(facts, service)
        return ("pass" if status == 200 else "fail"), f"HTTP {status or 'unreachable'} in {latency} ms"

    return probe


def _realm(admin: IdpAdmin) -> tuple[Status, str]:
    return ("pass", f"realm {admin.facts.realm} answers") if admin.realm_exists() else ("fail", "realm missing")


def _oidc(facts: InstanceFacts, admin: IdpAdmin) -> tuple[Status, str]:
    discovery = admin.get(f"{facts.issuer}/.well-known/openid-configuration")
    if discovery.status_code != 200 or discovery.json().get("issuer") != facts.issuer:
        return "fail", f"discovery issuer is not {facts.issuer}"
    keys = admin.get(discovery.json()["jwks_uri"]).json().get("keys", [])
    rs256 = [key for key in keys if key.get("alg", "RS256") == "RS256" and key.get("kty") == "RSA"]
    return ("pass", f"issuer ok, {len(rs256)} RS256 keys") if rs256 else ("fail", "the JWKS holds no RS256 key")


def _token(facts: InstanceFacts, admin: IdpAdmin) -> tuple[Status, str]:
    if not facts.accounts:
        return "skip", "n/a: no test users"
    if "api" not in facts.services:
        return "skip", "n/a: the api is not in this build"
    username = f"testuser-{facts.code}-1"
    password = facts.secrets.get(facts.accounts[0].password_secret) or ""
    secret = facts.secrets.get(f"{facts.code}/app-client-secret") or ""
    answer = admin.password_token(catalog.client_id(facts.code), secret, username, password)
    if answer.status_code != 200:
        return "fail", f"password grant for {username} answered HTTP {answer.status_code}"
    token = answer.json()["access_token"]
    try:
        with httpx.Client(verify=str(facts.home / "pki" / "bundle.pem"), timeout=5.0) as client:
            me = client.get(f"{facts.url('api')}/api/me", headers={"Authorization": f"Bearer {token}"})
    except httpx.TransportError as exc:
        return "fail", f"the api is unreachable: {exc}"
    if me.status_code != 200:
        return "fail", f"GET /api/me with {username}'s token answered HTTP {me.status_code}"
    return "pass", f"{username}'s token accepted by the api"


def _pdp(facts: InstanceFacts, admin: IdpAdmin) -> tuple[Status, str]:
    if "pdp" not in facts.services:
        return "skip", "n/a: the pdp is not in this build"
    try:
        answer = admin.get(f"{facts.url('pdp')}/v1/data/dive/policy")
    except OrchestrationError:  # the admin client names the idp in its transport error; this probe is the pdp's
        return "fail", f"the pdp at {facts.url('pdp')} is unreachable"
    revision = answer.json().get("revision") if answer.status_code == 200 else None
    if revision is None and answer.status_code == 200:
        revision = (answer.json().get("result") or {}).get("revision")
    return ("pass", f"revision {revision}") if revision else ("fail", f"no policy revision (HTTP {answer.status_code})")


def _documents(facts: InstanceFacts) -> tuple[Status, str]:
    target = facts.seed_count
    if target == 0:
        return "skip", "n/a: seed count 0"
    try:
        present = count_seeded(facts)
    except StoreError as exc:
        return "fail", exc.message
    return ("pass" if present >= target else "fail"), f"{present:,} of {target:,} seed documents"
