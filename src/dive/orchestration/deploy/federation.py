"""CONFIGURATION sub-steps C3–C8 of the spoke pipeline (spec/orchestration.md §4.4, §8.2–§8.5): pair secret, both
realm halves of the links, registration at the hub, trust, KAS-registry sync and verification with backoff.

The hub runs on this host (same `DIVE_HOME`), so the keystore holds both admin passwords and the pair secret: this
process writes both realm halves (the hub half right after approval, as `dive federation approve` does), and the hub
api's approval only changes the registry. Every step is idempotent; a redeploy changes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final, NoReturn, TypeVar

import httpx
from sqlalchemy import select

from dive import catalog
from dive.federation import (
    FederationError,
    HubApi,
    HubCredential,
    LocalFederation,
    PartnerUnreachableError,
    RegistrationError,
    RegistrationRequest,
    VerifyReport,
    VerifyTarget,
    await_approval,
    ensure_realm_half,
    parse_attempts,
    parse_schedule,
    register_spoke,
    set_link_rows,
    sync_hub_record,
    sync_kas_registry,
    verify_federation,
)
from dive.federation.records import instance_session
from dive.federation.remote_spokes import remote_spoke
from dive.federation.verify import RETRY_HINT
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.orchestration.phases import Check
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasRegistryKey

__all__ = [
    "as_phase_error",
    "federation_check",
    "hub_api",
    "hub_preflight",
    "local_verify_target",
    "require_verified",
    "retried",
    "run_federation",
    "verify_link",
]

HUB: Final = catalog.HUB
T = TypeVar("T")
Report = Callable[[str], None]
_RETRY_ATTEMPTS: Final = 5
_RETRIED_STATUSES: Final = (429, 502, 503, 504)


def hub_api(fed: LocalFederation, http: httpx.Client) -> tuple[HubApi, HubCredential]:
    """The hub api of this host with the admin key of the shared keystore (§8.2)."""
    key = fed.keystore.get(f"{HUB}/federation-admin-key")
    if key is None:
        _hub_unreachable("the hub's admin key (usa/federation-admin-key) is not in this keystore")
    return HubApi(fed.partner(HUB).api_url, http), HubCredential("admin_key", key)


def hub_preflight(facts: InstanceFacts) -> str:
    """§4.4 PREFLIGHT: the hub's metadata and readiness answer 200 over verified TLS. A `quickstart --dry-run`
    (DIVE_HUB_PLANNED=1) plans the hub before its spokes, so there is no hub to ask yet."""
    if facts.environ.get("DIVE_HUB_PLANNED") == "1":
        return "the hub is deployed first by this quickstart"
    fed = LocalFederation(facts.home, facts.environ)
    if not fed.has_database(HUB):
        _hub_unreachable("the hub is not deployed on this host")
    try:
        with fed.http() as http:
            hub, _credential = hub_api(fed, http)
            hub.metadata()
            ready = http.get(f"{hub.base}/api/health/ready").status_code
    except FederationError as exc:
        _hub_unreachable(f"the hub api is not usable: {exc.message}")
    except httpx.TransportError as exc:
        _hub_unreachable(f"the hub api is unreachable: {exc}")
    if ready != 200:
        _hub_unreachable(f"the hub api is not ready (HTTP {ready})")
    return f"hub api {hub.base} ready"


def _hub_unreachable(reason: str) -> NoReturn:
    next_step = "deploy the hub first (dive hub deploy) or pass --skip-federation"
    raise PhaseError("preflight_hub_unreachable", f"{reason}; {next_step}", remediation=next_step)


@contextmanager
def as_phase_error() -> Iterator[None]:
    """A federation failure fails the phase with the federation error's code (e.g. `fed_pending_approval`)."""
    try:
        yield
    except FederationError as exc:
        raise PhaseError(exc.code, exc.message, exc.detail, remediation=exc.remediation) from exc


def run_federation(facts: InstanceFacts, report: Report) -> str:
    """C3–C8 of CONFIGURATION (§4.4), recorded COMPLETED only after C8 passes."""
    with as_phase_error():
        return _federate(facts, report)


def _federate(facts: InstanceFacts, report: Report) -> str:
    fed, code = LocalFederation(facts.home, facts.environ), facts.code
    with fed.http() as http:
        report("C3 pair secret")
        secret = fed.ensure_pair_secret(HUB, code)
        report(f"C4 {facts.display} half of the links")
        changes = ensure_realm_half(fed.side(code, http), fed.partner(HUB), secret, http)
        hub, credential = hub_api(fed, http)
        report("C5 registration at the hub")
        metadata = retried(hub.metadata, report)
        kas = _register_kas(facts, hub, credential, report)
        approval = _register(facts, hub, credential, report)
        changes += _link_hub_half(fed, code, secret, http)
        report("C6 hub record and federation matrix")
        with instance_session(facts.database_url) as session:
            sync_hub_record(session, code, metadata)
        report("C7 KAS registry")
        servers = retried(lambda: hub.kas_registry(credential), report)
        with instance_session(facts.database_url) as session:
            synced = sync_kas_registry(session, code, servers)
        report("C8 federation verification")
        verified = _verify(fed, code, http, report)
    return (
        f"{approval}; {kas}; links: {len(changes)} changes; KAS registry: {len(synced.upserted)} partner(s); "
        f"federation verify {verified.passed}/{verified.total} ({verified.attempts} attempt(s))"
    )


def verify_link(facts: InstanceFacts, report: Report) -> str:
    """VERIFICATION of a federated spoke (§4.4 #6): `federation verify CODE` with backoff; `PhaseError` on failure."""
    fed = LocalFederation(facts.home, facts.environ)
    with as_phase_error(), fed.http() as http:
        verified = _verify(fed, facts.code, http, report)
    return f"federation verify {verified.passed}/{verified.total} ({verified.attempts} attempt(s))"


def _register_kas(facts: InstanceFacts, hub: HubApi, credential: HubCredential, report: Report) -> str:
    """§8.2 C5 step 2, skipped when the hub already lists our KAS with the same keys (a redeploy writes nothing)."""
    kas_id = catalog.kas_id(facts.code)
    with instance_session(facts.database_url) as session:
        rows = session.scalars(select(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id)).all()
        keys = [{"kid": k.kid, "alg": k.algorithm, "publicKey": k.public_key_pem, "fingerprint": k.fingerprint,
                 "status": k.status} for k in rows]  # fmt: skip
    listed = {str(s.get("kasId")): s for s in retried(lambda: hub.kas_registry(credential), report)}
    served = {(k.get("kid"), k.get("fingerprint")) for k in (listed.get(kas_id) or {}).get("publicKeys") or []}
    if served == {(k["kid"], k["fingerprint"]) for k in keys}:
        return f"{kas_id} already at the hub"
    body = {"kasId": kas_id, "instanceCode": facts.display, "kasUrl": facts.kas_url, "publicKeys": keys}
    retried(lambda: hub.register_kas(body, credential), report)
    return f"{kas_id} registered at the hub"


def _register(facts: InstanceFacts, hub: HubApi, credential: HubCredential, report: Report) -> str:
    """§8.2 C5 step 3–5: register (auto-approved outside production), wait for approval, keep a new spoke token."""
    request = RegistrationRequest(
        code=facts.code,
        name=catalog.instance(facts.code).name,
        api_url=facts.url("api"),
        web_url=facts.url("web"),
        idp_url=facts.url("idp"),
        issuer=facts.issuer,
        kas_url=facts.kas_url,
        version=_version(),
        approve=not facts.production,  # local hub (same DIVE_HOME): auto-approval (§8.2, CONSISTENCY #13)
    )
    registration = retried(lambda: register_spoke(hub, request, credential), report)
    if registration.spoke_token:
        facts.secrets.put(f"{facts.code}/spoke-token", registration.spoke_token, overwrite=True)
    record: dict[str, Any] = dict(registration.record)
    if record.get("status") != "approved":
        report(f"C5 waiting for approval of {facts.display} at the hub")
        record = await_approval(hub, facts.code, credential, timeout_s=_approval_timeout(facts))
    verb = "registered and approved" if registration.created else "approved"
    return f"{facts.display} {verb} at the hub ({record.get('trustLevel')}, {record.get('maxClassification')})"


def _link_hub_half(fed: LocalFederation, code: str, secret: str, http: httpx.Client) -> list[str]:
    """§8.2 hub side step 3: the hub half with the hub's credentials, then `link_status` (failed + error on error)."""
    try:
        changes = ensure_realm_half(fed.side(HUB, http), fed.partner(code), secret, http)
    except FederationError as exc:
        _record_link_status(fed, code, "failed", exc.message, changed=False)
        raise
    _record_link_status(fed, code, "active", None, changed=bool(changes))
    return changes


def _record_link_status(fed: LocalFederation, code: str, status: str, error: str | None, *, changed: bool) -> None:
    with instance_session(fed.database_url(HUB)) as session:
        registry = FederationRegistryRepository()
        record = registry.get_spoke(session, code)
        if record is None or ((record.link_status, record.link_error) == (status, error) and not changed):
            return
        record.link_status, record.link_error = status, error
        if changed:
            set_link_rows(session, HUB, code, "PENDING")
        registry.bump_version(session)


def _verify(fed: LocalFederation, code: str, http: httpx.Client, report: Report) -> VerifyReport:
    def on_retry(attempt: int, total: int, passed: int, checks: int, delay: float) -> None:
        report(f"C8 attempt {attempt}/{total}: {passed}/{checks} passed — retrying in {delay:g} s ({RETRY_HINT})")

    environ = fed.environ
    result = verify_federation(
        local_verify_target(fed, code, http),
        attempts=parse_attempts(environ.get("DIVE_VERIFY_ATTEMPTS")),
        schedule=parse_schedule(environ.get("DIVE_VERIFY_BACKOFF")),
        on_retry=on_retry,
        sleep=time.sleep,
    )
    return require_verified(result, code)


def require_verified(result: VerifyReport, code: str) -> VerifyReport:
    """C8's exit criterion: every check passed, else a phase error naming the first failures and their remedy."""
    if not result.ok:
        failed = [o for o in result.outcomes.values() if o.status == "fail"]
        raise PhaseError(
            "fed_verify_failed",
            f"federation verify {result.passed}/{result.total}: "
            + "; ".join(f"{o.id}: {o.detail}" for o in failed[:4]),
            {"failed": [o.id for o in failed]},
            remediation=failed[0].remediation or f"dive federation verify {code.upper()}",
        )
    return result


def local_verify_target(fed: LocalFederation, spoke: str, http: httpx.Client) -> VerifyTarget:
    """What this host knows about the pair USA ⇄ `spoke`: admin clients, databases and secrets of its keystore."""
    keystore, remote = fed.keystore, remote_spoke(fed, spoke)
    return VerifyTarget(
        hub=fed.partner(HUB),
        spoke=fed.partner(spoke) if remote is None else remote.partner,
        http=http,
        tls=fed.tls(),
        hub_admin=fed.admin(HUB, http),
        spoke_admin=fed.admin(spoke, http),
        hub_db_url=fed.database_url(HUB) if fed.has_database(HUB) else None,
        spoke_db_url=fed.database_url(spoke) if fed.has_database(spoke) else None,
        test_user_password=keystore.get("_shared/test-user-password"),
        app_client_secrets={c: v for c in (HUB, spoke) if (v := keystore.get(f"{c}/app-client-secret"))},
        kas_deployed=bool(keystore.list(f"kas/{spoke}/")),
    )


def federation_check(facts: InstanceFacts) -> Check:
    """The live checkpoint of C3–C8 (read-only): approved on both sides, the four link objects present."""
    fed, code = LocalFederation(facts.home, facts.environ), facts.code
    try:
        if not fed.has_database(HUB):
            return Check(False, "the hub is not deployed on this host")
        for db_code, subject in ((HUB, code), (code, HUB)):
            with instance_session(fed.database_url(db_code)) as session:
                record = FederationRegistryRepository().get_spoke(session, subject)
                if record is None or record.status != "approved" or record.link_status == "failed":
                    state = "absent" if record is None else f"{record.status}, link {record.link_status}"
                    return Check(False, f"registry of {db_code.upper()}: {subject.upper()} is {state}")
        with fed.http() as http:
            missing = _missing_link_objects(fed, code, http)
    except FederationError as exc:
        return Check(False, exc.message)
    if missing:
        return Check(False, f"link objects missing: {', '.join(missing)}")
    return Check(True, f"{facts.display} approved at the hub; both links in place")


def _missing_link_objects(fed: LocalFederation, code: str, http: httpx.Client) -> list[str]:
    missing = []
    for own, partner in ((HUB, code), (code, HUB)):
        side, other = fed.side(own, http), fed.partner(partner)
        if side.admin.identity_provider(other.alias) is None:
            missing.append(f"{other.alias} in {side.partner.realm}")
        if side.admin.client(other.client_id) is None:
            missing.append(f"client {other.client_id} in {side.partner.realm}")
    return missing


def _approval_timeout(facts: InstanceFacts) -> float:
    """`--approval-timeout S` (the CLI validates it; unset: 0, a pending record fails at once)."""
    return float(facts.environ.get("DIVE_APPROVAL_TIMEOUT_S") or 0)


def retried(operation: Callable[[], T], report: Report) -> T:
    """§7.1: 5 attempts, `min(8 s, 0.5 s × 2^(k-1))` ±20 % apart, for unreachable peers and 429/502/503/504."""
    attempt = 1
    while True:
        try:
            return operation()
        except (PartnerUnreachableError, RegistrationError) as exc:
            retryable = isinstance(exc, PartnerUnreachableError) or exc.detail.get("status") in _RETRIED_STATUSES
            if not retryable or attempt == _RETRY_ATTEMPTS:
                raise
            delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            report(f"retry {attempt}/{_RETRY_ATTEMPTS} in {delay:.1f} s: {exc.message}")
            time.sleep(delay)
            attempt += 1


def _version() -> str:
    try:
        return version("dive")[:20]
    except PackageNotFoundError:
        return "0"
