"""The federation steps of a spoke whose hub runs on another host (orchestration Amendment A1, §4.4 PREFLIGHT,
C3–C8 and VERIFICATION, §8.2, §8.4; CONSISTENCY #13), and the dispatch between that and the same-host path.

The spoke holds no hub admin key and no hub admin password. It trusts the hub's CA (`pki/trusted/usa.pem`), writes
only its own realm half of the links, enrols with the single-use enrolment token and from then on uses the spoke
token for everything the hub lets a spoke do (poll its record, re-post its KAS keys, read the KAS registry). The hub
half of the links and the trust of this spoke's CA are written on the hub host when its operator approves
(`dive federation approve CODE`). Checks that need the hub's admin credentials are reported as skips."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, NoReturn

import httpx
from sqlalchemy import select

from dive import catalog
from dive.federation import (
    FederationError,
    HubApi,
    HubCredential,
    LocalFederation,
    Partner,
    RegistrationError,
    RegistrationRequest,
    VerifyReport,
    VerifyTarget,
    await_approval,
    ensure_realm_half,
    parse_attempts,
    parse_schedule,
    register_spoke,
    sync_hub_record,
    sync_kas_registry,
    verify_federation,
)
from dive.federation.records import instance_session
from dive.federation.remote import (
    EnrolmentRefusedError,
    RemoteHub,
    enrolment_refusal,
    hub_partner,
    read_ca_pem,
    read_enrolment_token,
    remote_hub_of,
    trust_partner_ca,
    trusted_ca_path,
)
from dive.federation.verify import RETRY_HINT
from dive.orchestration.deploy import federation as same_host
from dive.orchestration.deploy.instance import InstanceFacts
from dive.orchestration.errors import PhaseError
from dive.orchestration.phases import Check
from dive.pki import ca_bundle_path, ca_certificate_path
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasRegistryKey

__all__ = ["federation_check", "hub_preflight", "remote_hub", "run_federation", "verify_link"]

HUB: Final = catalog.HUB
Report = Callable[[str], None]


def remote_hub(facts: InstanceFacts) -> RemoteHub | None:
    """The remote hub of this run (`--hub-url`, i.e. `DIVE_HUB_URL`, with no hub in this home), else None."""
    try:
        return remote_hub_of(facts.environ, facts.home)
    except ValueError as exc:
        raise PhaseError("preflight_hub_unreachable", str(exc), remediation="pass the hub api URL: --hub-url") from exc


def hub_preflight(facts: InstanceFacts) -> str:
    """§4.4 PREFLIGHT for a federated spoke: the same-host checks, or the remote hub's (read-only)."""
    remote = remote_hub(facts)
    return same_host.hub_preflight(facts) if remote is None else _remote_preflight(facts, remote)


def run_federation(facts: InstanceFacts, report: Report) -> str:
    """C3–C8 of CONFIGURATION, with the hub of this host or a remote one."""
    remote = remote_hub(facts)
    if remote is None:
        return same_host.run_federation(facts, report)
    with same_host.as_phase_error():
        return _federate(facts, remote, report)


def verify_link(facts: InstanceFacts, report: Report) -> str:
    """VERIFICATION of a federated spoke: `federation verify` with backoff, from wherever the hub is."""
    remote = remote_hub(facts)
    if remote is None:
        return same_host.verify_link(facts, report)
    fed = LocalFederation(facts.home, facts.environ)
    with same_host.as_phase_error(), fed.http() as http:
        hub = HubApi(remote.api_url, http)
        verified = _verify(facts, fed, hub, hub_partner(hub.metadata()), http, report)
    return f"federation verify {verified.passed}/{verified.total} ({verified.attempts} attempt(s))"


def federation_check(facts: InstanceFacts) -> Check:
    """The live checkpoint of C3–C8; for a remote hub: approved there, its record here, our half of the links."""
    remote = remote_hub(facts)
    if remote is None:
        return same_host.federation_check(facts)
    fed, code = LocalFederation(facts.home, facts.environ), facts.code
    token = facts.secrets.get(f"{code}/spoke-token")
    if token is None:
        return Check(False, f"{facts.display} has not enrolled at the hub (no spoke token)")
    try:
        with instance_session(facts.database_url) as session:
            hub_row = FederationRegistryRepository().get_spoke(session, HUB)
            hub_status = "absent" if hub_row is None else hub_row.status
        if hub_status != "approved":
            return Check(False, f"the hub's record in {facts.display} is {hub_status}")
        with fed.http() as http:
            record = HubApi(remote.api_url, http).spoke(code, HubCredential("spoke_token", token))
            if record.get("status") != "approved":
                return Check(False, f"{facts.display} is {record.get('status')} at the hub")
            admin = fed.side(code, http).admin
            missing = [name for name, found in (
                (catalog.idp_alias(HUB), admin.identity_provider(catalog.idp_alias(HUB))),
                (f"client {catalog.client_id(HUB)}", admin.client(catalog.client_id(HUB))),
            ) if found is None]  # fmt: skip
    except (FederationError, httpx.HTTPError) as exc:
        return Check(False, exc.message if isinstance(exc, FederationError) else str(exc))
    if missing:
        return Check(False, f"link objects missing in {facts.realm}: {', '.join(missing)}")
    return Check(True, f"{facts.display} approved at {remote.api_url}; its half of the links in place")


def _hub_unreachable(reason: str, remediation: str) -> NoReturn:
    raise PhaseError("preflight_hub_unreachable", reason, remediation=remediation)


def _remote_preflight(facts: InstanceFacts, remote: RemoteHub) -> str:
    """Read-only: the hub answers over TLS verified against its CA, and we hold a credential it accepts."""
    context = _preflight_tls(facts, remote)
    try:
        with httpx.Client(verify=context, timeout=10.0) as http:
            hub = HubApi(remote.api_url, http)
            hub.metadata()
            ready = http.get(f"{hub.base}/api/health/ready").status_code
            if ready != 200:
                _hub_unreachable(f"the hub api at {remote.api_url} is not ready (HTTP {ready})", "retry later")
            credential = _preflight_credential(facts, remote, hub, http)
    except EnrolmentRefusedError as exc:
        raise PhaseError(exc.code, exc.message, exc.detail, remediation=exc.remediation) from exc
    except FederationError as exc:
        _hub_unreachable(f"the hub api at {remote.api_url} is not usable: {exc.message}", "check --hub-url")
    except httpx.HTTPError as exc:
        _hub_unreachable(f"the hub api at {remote.api_url} is unreachable: {exc}", "check --hub-url and --hub-ca")
    return f"remote hub api {remote.api_url} ready; {credential}"


def _preflight_tls(facts: InstanceFacts, remote: RemoteHub) -> ssl.SSLContext:
    """Trust for the preflight without writing anything: our bundle (if any) plus the given or trusted hub CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    bundle, trusted = ca_bundle_path(facts.home), trusted_ca_path(facts.home, HUB)
    if bundle.exists():
        context.load_verify_locations(cafile=str(bundle))
    if remote.ca_file is not None:
        try:
            context.load_verify_locations(cadata=read_ca_pem(remote.ca_file))
        except ValueError as exc:
            _hub_unreachable(str(exc), "pass the hub's CA bundle: --hub-ca FILE")
    elif not trusted.exists():
        _hub_unreachable(f"{facts.display} does not trust the remote hub's CA yet", "pass --hub-ca FILE")
    return context


def _preflight_credential(facts: InstanceFacts, remote: RemoteHub, hub: HubApi, http: httpx.Client) -> str:
    """A live enrolment token (checked without spending it), or the spoke token of an earlier enrolment."""
    if remote.token_file is None:
        if facts.secrets.get(f"{facts.code}/spoke-token") is None:
            _hub_unreachable(
                f"{facts.display} has not enrolled at the remote hub and no enrolment token was given",
                f"on the hub: dive spoke authorize {facts.display} --out FILE; here: --enrolment-token-file FILE",
            )
        return "enrolled earlier (spoke token)"
    try:
        token = read_enrolment_token(remote.token_file)
    except ValueError as exc:
        _hub_unreachable(str(exc), f"on the hub: dive spoke authorize {facts.display} --out FILE")
    _probe_enrolment_token(hub, http, facts.code, token)
    return "enrolment token live (not spent)"


def _probe_enrolment_token(hub: HubApi, http: httpx.Client, code: str, token: str) -> None:
    """`register` authenticates the token before it validates the body (identity-api-ui §B.10 item 2): a body
    with only the code answers 400 for a live token and 401 with the reason otherwise; nothing is spent."""
    response = http.post(
        f"{hub.base}/api/federation/register",
        headers=HubCredential("enrolment_token", token).headers(),
        json={"instanceCode": code.upper()},
    )
    if response.status_code == 400:
        return
    try:
        answer = response.json()
    except ValueError:
        answer = None
    refusal = enrolment_refusal(response.status_code, answer)
    if refusal is not None:
        raise refusal
    raise RegistrationError(f"the hub answered the enrolment check with HTTP {response.status_code}")


def _federate(facts: InstanceFacts, remote: RemoteHub, report: Report) -> str:
    fed, code = LocalFederation(facts.home, facts.environ), facts.code
    report("C6 trust the hub's CA")  # first: every later call to the hub is verified against it
    trusted = _trust_hub(facts, remote)
    with fed.http() as http:
        hub = HubApi(remote.api_url, http)
        metadata = same_host.retried(hub.metadata, report)
        hub_side = hub_partner(metadata)
        report("C3 pair secret")
        secret = fed.ensure_pair_secret(HUB, code)
        report(f"C4 {facts.display} half of the links")
        changes = ensure_realm_half(fed.side(code, http), hub_side, secret, http)
        report("C5 registration at the hub")
        credential, enrolled, kas = _enrol(facts, hub, remote, secret, report)
        record = await_approval(hub, code, credential, timeout_s=_approval_timeout(facts))
        report("C6 hub record and federation matrix")
        with instance_session(facts.database_url) as session:
            sync_hub_record(session, code, metadata)
        report("C7 KAS registry")
        servers = same_host.retried(lambda: hub.kas_registry(credential), report)
        with instance_session(facts.database_url) as session:
            synced = sync_kas_registry(session, code, servers)
        report("C8 federation verification")
        verified = _verify(facts, fed, hub, hub_side, http, report)
    return (
        f"{facts.display} {enrolled} at {remote.api_url} ({record.get('trustLevel')}, "
        f"{record.get('maxClassification')}); hub CA {'trusted now' if trusted else 'already trusted'}; {kas}; "
        f"links: {len(changes)} changes on this side; KAS registry: {len(synced.upserted)} partner(s); "
        f"federation verify {verified.passed}/{verified.total} ({verified.attempts} attempt(s))"
    )


def _trust_hub(facts: InstanceFacts, remote: RemoteHub) -> bool:
    if remote.ca_file is None:
        if not trusted_ca_path(facts.home, HUB).exists():
            raise FederationError("the remote hub's CA is not trusted here", remediation="pass --hub-ca FILE")
        return False
    try:
        return trust_partner_ca(facts.home, HUB, read_ca_pem(remote.ca_file))
    except ValueError as exc:
        raise FederationError(str(exc), remediation="pass the hub's CA bundle: --hub-ca FILE") from exc


def _enrol(
    facts: InstanceFacts, hub: HubApi, remote: RemoteHub, secret: str, report: Report
) -> tuple[HubCredential, str, str]:
    """C5 steps 2–5: the first time with the enrolment token (spent by `register`), afterwards with the spoke
    token. Returns the spoke-token credential, what happened to the registration, and to the KAS entry."""
    code, token_path = facts.code, f"{facts.code}/spoke-token"
    stored = facts.secrets.get(token_path)
    if stored is not None and _registered(hub, code, HubCredential("spoke_token", stored)):
        credential = HubCredential("spoke_token", stored)
        return credential, "registered earlier", _update_kas(facts, hub, credential, report)
    if remote.token_file is None:
        raise RegistrationError(
            f"{facts.display} is not registered at the hub and no enrolment token was given",
            remediation=f"on the hub: dive spoke authorize {facts.display} --out FILE; here: --enrolment-token-file",
        )
    try:
        enrolment = HubCredential("enrolment_token", read_enrolment_token(remote.token_file))
    except ValueError as exc:
        raise RegistrationError(str(exc), remediation=f"dive spoke authorize {facts.display} --out FILE") from exc
    with _refusals():
        same_host.retried(lambda: hub.register_kas(_kas_body(facts), enrolment), report)
        registration = same_host.retried(lambda: register_spoke(hub, _request(facts, secret), enrolment), report)
    if registration.spoke_token is None:
        raise RegistrationError(f"the hub issued no spoke token to {facts.display}; ask the hub operator")
    facts.secrets.put(token_path, registration.spoke_token, overwrite=True)
    verb = "registered" if registration.created else "re-registered"
    return HubCredential("spoke_token", registration.spoke_token), verb, f"{catalog.kas_id(code)} registered"


def _registered(hub: HubApi, code: str, credential: HubCredential) -> bool:
    """True when the hub holds a live (not revoked) record of `code` that this spoke token opens."""
    try:
        record = hub.spoke(code, credential)
    except RegistrationError as exc:
        if exc.detail.get("status") in (401, 403, 404):
            return False
        raise
    return record.get("status") != "revoked"


@contextmanager
def _refusals() -> Iterator[None]:
    """The hub's 401/403 to an enrolment token becomes its specific reason (used, expired, other code…)."""
    try:
        yield
    except RegistrationError as exc:
        status = exc.detail.get("status")
        refusal = enrolment_refusal(status, exc.detail.get("answer")) if isinstance(status, int) else None
        if refusal is None:
            raise
        raise refusal from exc


def _kas_body(facts: InstanceFacts) -> dict[str, object]:
    kas_id = catalog.kas_id(facts.code)
    with instance_session(facts.database_url) as session:
        rows = session.scalars(select(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id)).all()
        keys = [{"kid": k.kid, "alg": k.algorithm, "publicKey": k.public_key_pem, "fingerprint": k.fingerprint,
                 "status": k.status} for k in rows]  # fmt: skip
    return {"kasId": kas_id, "instanceCode": facts.display, "kasUrl": facts.kas_url, "publicKeys": keys}


def _update_kas(facts: InstanceFacts, hub: HubApi, credential: HubCredential, report: Report) -> str:
    """Re-post our KAS keys with the spoke token only when the hub lists other keys (a redeploy writes nothing)."""
    body, kas_id = _kas_body(facts), catalog.kas_id(facts.code)
    listed = {str(s.get("kasId")): s for s in same_host.retried(lambda: hub.kas_registry(credential), report)}
    served = {(k.get("kid"), k.get("fingerprint")) for k in (listed.get(kas_id) or {}).get("publicKeys") or []}
    wanted: list[dict[str, Any]] = body["publicKeys"]  # type: ignore[assignment]
    if served == {(k["kid"], k["fingerprint"]) for k in wanted}:
        return f"{kas_id} already at the hub"
    same_host.retried(lambda: hub.register_kas(body, credential), report)
    return f"{kas_id} keys updated at the hub"


def _request(facts: InstanceFacts, secret: str) -> RegistrationRequest:
    """§8.2 step 3 from another host: never `approve`, our CA for the hub's trust, the pair secret for its half."""
    return RegistrationRequest(
        code=facts.code,
        name=catalog.instance(facts.code).name,
        api_url=facts.url("api"),
        web_url=facts.url("web"),
        idp_url=facts.url("idp"),
        issuer=facts.issuer,
        kas_url=facts.kas_url,
        version=same_host._version(),
        approve=False,
        ca_bundle_pem=ca_certificate_path(facts.home).read_text(encoding="ascii"),
        federation_secret=secret,
    )


def _approval_timeout(facts: InstanceFacts) -> float:
    return float(facts.environ.get("DIVE_APPROVAL_TIMEOUT_S") or 0)


class _HubRecords:
    """The hub's registry as the spoke token shows it (the hub database is on another host)."""

    def __init__(self, hub: HubApi, credential: HubCredential) -> None:
        self._hub, self._credential = hub, credential

    def spoke_status(self, code: str) -> str | None:
        return str(self._hub.spoke(code, self._credential).get("status"))

    def kas(self, kas_id: str) -> tuple[str, str, dict[str, str]] | None:
        servers = {str(s.get("kasId")): s for s in self._hub.kas_registry(self._credential)}
        server = servers.get(kas_id)
        if server is None:
            return None
        keys = {str(k.get("kid")): str(k.get("fingerprint")) for k in server.get("publicKeys") or []}
        return str(server.get("status")), str(server.get("kasUrl")).rstrip("/"), keys


def _verify(
    facts: InstanceFacts, fed: LocalFederation, hub: HubApi, hub_side: Partner, http: httpx.Client, report: Report
) -> VerifyReport:
    """§8.5 from the spoke's host: checks needing the hub's admin credentials or app secret are skips."""
    token = facts.secrets.get(f"{facts.code}/spoke-token")
    if token is None:
        raise RegistrationError(
            f"{facts.display} holds no spoke token", remediation=f"dive spoke federate {facts.code}"
        )

    def on_retry(attempt: int, total: int, passed: int, checks: int, delay: float) -> None:
        report(f"C8 attempt {attempt}/{total}: {passed}/{checks} passed — retrying in {delay:g} s ({RETRY_HINT})")

    keystore, code = fed.keystore, facts.code
    target = VerifyTarget(
        hub=hub_side,
        spoke=fed.partner(code),
        http=http,
        tls=fed.tls(),
        hub_admin=None,
        spoke_admin=fed.admin(code, http),
        hub_db_url=None,
        spoke_db_url=fed.database_url(code),
        test_user_password=keystore.get("_shared/test-user-password"),
        app_client_secrets={c: v for c in (code,) if (v := keystore.get(f"{c}/app-client-secret"))},
        kas_deployed=bool(keystore.list(f"kas/{code}/")),
        hub_records=_HubRecords(hub, HubCredential("spoke_token", token)),
    )
    result = verify_federation(
        target,
        attempts=parse_attempts(facts.environ.get("DIVE_VERIFY_ATTEMPTS")),
        schedule=parse_schedule(facts.environ.get("DIVE_VERIFY_BACKOFF")),
        on_retry=on_retry,
        sleep=time.sleep,
    )
    return same_host.require_verified(result, code)
