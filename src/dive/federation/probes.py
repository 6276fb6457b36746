"""The live probes behind `federation verify` (orchestration §8.5) and the driver that records the result.

Every probe is read-only. A probe that cannot reach its target fails with the reason; it never raises."""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from dive.federation.discovery import Discovery, fetch_discovery
from dive.federation.errors import FederationError
from dive.federation.idp_admin import IdpAdminClient
from dive.federation.partners import Partner
from dive.federation.records import instance_session, record_link_result
from dive.federation.verify import CheckSpec, ProbeResult, VerifyReport, run_verification, verify_checks
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey

__all__ = ["HubRecords", "VerifyTarget", "verify_federation"]

_TIMEOUT_S = 10.0


class HubRecords(Protocol):
    """The hub's registry read through its api, for a spoke whose hub database is on another host."""

    def spoke_status(self, code: str) -> str | None: ...

    def kas(self, kas_id: str) -> tuple[str, str, dict[str, str]] | None: ...


@dataclass(frozen=True, kw_only=True)
class VerifyTarget:
    """What this host knows about the pair. `None` admin clients, password or database URL make the checks that
    need them skips (remote partner without admin credentials, no test users) or failures (no hub registry)."""

    hub: Partner
    spoke: Partner
    http: httpx.Client
    tls: ssl.SSLContext  # for the cookie-keeping browser of the SSO check
    hub_admin: IdpAdminClient | None
    spoke_admin: IdpAdminClient | None
    hub_db_url: str | None
    spoke_db_url: str | None
    test_user_password: str | None
    app_client_secrets: dict[str, str] = field(default_factory=dict)  # code → `<c>/app-client-secret`
    kas_deployed: bool = True
    hub_records: HubRecords | None = None  # a remote hub's registry, when `hub_db_url` is None


def verify_federation(
    target: VerifyTarget,
    *,
    attempts: int,
    schedule: tuple[float, ...],
    on_retry: Callable[[int, int, int, int, float], None],
    sleep: Callable[[float], None],
) -> VerifyReport:
    """Run the §8.5 checks with backoff; on the hub host (hub DB known), record each link's result."""
    checks = verify_checks(target.hub.code, target.spoke.code)
    probes = _Probes(target)
    report = run_verification(
        checks,
        probes.run,
        hub=target.hub.code,
        spoke=target.spoke.code,
        attempts=attempts,
        schedule=schedule,
        skips=_skips(target, checks),
        on_retry=on_retry,
        sleep=sleep,
    )
    if target.hub_db_url is not None:
        _record(target.hub_db_url, target, report)
    return report


def _skips(target: VerifyTarget, checks: tuple[CheckSpec, ...]) -> dict[str, str]:
    skips: dict[str, str] = {}
    no_admin = "skip: no admin credentials for remote realm"
    for check in checks:
        kind = check.id.rsplit(".", 1)[-1]
        if kind == "token" and target.test_user_password is None:
            skips[check.id] = "skip: no test users"
        elif kind == "token" and _remote_realm_without_secret(target, check.id.split("@")[0]):
            skips[check.id] = "skip: no app client secret for remote realm"
        if kind in ("idp", "client", "sso") and "@" in check.id:
            source, owner = check.id.split(".")[0].split("@")
            needed = {"idp": owner, "client": source, "sso": owner}[kind]
            admin = target.hub_admin if needed == target.hub.code else target.spoke_admin
            if admin is None or (kind == "sso" and (target.hub_admin is None or target.spoke_admin is None)):
                skips[check.id] = no_admin
    if not target.kas_deployed:
        skips["spoke.kas"] = f"skip: no KAS deployed for {target.spoke.display}"
    return skips


def _remote_realm_without_secret(target: VerifyTarget, code: str) -> bool:
    """A partner on another host: neither its admin password nor its app client secret is in this keystore."""
    admin = target.hub_admin if code == target.hub.code else target.spoke_admin
    return admin is None and code not in target.app_client_secrets


def _record(hub_db_url: str, target: VerifyTarget, report: VerifyReport) -> None:
    hub, spoke = target.hub.code, target.spoke.code
    shared = ("registry", "hub.idp", "spoke.idp", "hub.realm", "spoke.realm", "hub.oidc", "spoke.oidc", "spoke.kas")
    with instance_session(hub_db_url) as session:
        for source, owner in ((spoke, hub), (hub, spoke)):
            own = [f"{source}@{owner}.{kind}" for kind in ("idp", "client", "sso", "token")]
            results = {k: report.outcomes[k].status for k in (*shared, *own)}
            record_link_result(session, source, owner, results)


class _Probes:
    def __init__(self, target: VerifyTarget) -> None:
        self.t = target
        self._discovery: dict[str, Discovery] = {}

    def run(self, check: CheckSpec) -> ProbeResult:
        try:
            return self._dispatch(check.id)
        except FederationError as exc:
            return ProbeResult(False, exc.message)
        except httpx.HTTPError as exc:
            return ProbeResult(False, f"{type(exc).__name__}: {exc}")

    def _dispatch(self, check_id: str) -> ProbeResult:
        if check_id == "registry":
            return self._registry()
        if check_id == "spoke.kas":
            return self._kas()
        head, kind = check_id.rsplit(".", 1)
        if "@" not in head:
            partner = self.t.hub if head == "hub" else self.t.spoke
            return {"idp": self._ready, "realm": self._realm, "oidc": self._oidc}[kind](partner)
        source, owner = (self._partner(code) for code in head.split("@"))
        link_probe = {"idp": self._link_idp, "client": self._link_client, "sso": self._sso, "token": self._token}
        return link_probe[kind](source, owner)

    def _partner(self, code: str) -> Partner:
        return self.t.hub if code == self.t.hub.code else self.t.spoke

    def _admin(self, partner: Partner) -> IdpAdminClient:
        admin = self.t.hub_admin if partner.code == self.t.hub.code else self.t.spoke_admin
        if admin is None:
            raise FederationError(f"no admin credentials for realm {partner.realm}")
        return admin

    def _registry(self) -> ProbeResult:
        if self.t.hub_db_url is not None:
            with instance_session(self.t.hub_db_url) as session:
                spoke = FederationRegistryRepository().get_spoke(session, self.t.spoke.code)
                status = None if spoke is None else spoke.status
        elif self.t.hub_records is not None:
            status = self.t.hub_records.spoke_status(self.t.spoke.code)
        else:
            return ProbeResult(False, "the hub registry is not reachable from this host")
        return ProbeResult(status == "approved", f"registry record {self.t.spoke.display}: {status or 'absent'}")

    def _ready(self, partner: Partner) -> ProbeResult:
        status = self.t.http.get(f"{partner.idp_url}/health/ready", timeout=_TIMEOUT_S).status_code
        return ProbeResult(status == 200, f"GET {partner.idp_url}/health/ready → {status}")

    def _realm(self, partner: Partner) -> ProbeResult:
        response = self.t.http.get(f"{partner.idp_url}/realms/{partner.realm}", timeout=_TIMEOUT_S)
        ok = response.status_code == 200 and response.json().get("realm") == partner.realm
        return ProbeResult(ok, f"realm {partner.realm} → HTTP {response.status_code}")

    def _oidc(self, partner: Partner) -> ProbeResult:
        discovery = self._discovery_of(partner)
        if discovery.issuer != partner.issuer:
            return ProbeResult(False, f"issuer {discovery.issuer} ≠ expected {partner.issuer}")
        keys = self.t.http.get(discovery.jwks_uri, timeout=_TIMEOUT_S).json().get("keys") or []
        return ProbeResult(bool(keys), f"issuer ok; JWKS has {len(keys)} key(s)")

    def _discovery_of(self, partner: Partner) -> Discovery:
        if partner.code not in self._discovery:
            self._discovery[partner.code] = fetch_discovery(self.t.http, partner)
        return self._discovery[partner.code]

    def _link_idp(self, source: Partner, owner: Partner) -> ProbeResult:
        idp = self._admin(owner).identity_provider(source.alias)
        if idp is None:
            return ProbeResult(False, f"identity provider {source.alias} missing in realm {owner.realm}")
        if not idp.get("enabled"):
            return ProbeResult(False, f"identity provider {source.alias} is disabled in realm {owner.realm}")
        wanted = self._discovery_of(source).authorization_endpoint
        found = (idp.get("config") or {}).get("authorizationUrl")
        return ProbeResult(found == wanted, f"{source.alias} authorizationUrl {found}")

    def _link_client(self, source: Partner, owner: Partner) -> ProbeResult:
        client = self._admin(source).client(owner.client_id)
        if client is None:
            return ProbeResult(False, f"client {owner.client_id} missing in realm {source.realm}")
        endpoint = owner.broker_endpoint(source)
        ok = endpoint in (client.get("redirectUris") or []) and client.get("enabled", True)
        return ProbeResult(bool(ok), f"client {owner.client_id} redirect URIs {client.get('redirectUris')}")

    def _sso(self, source: Partner, owner: Partner) -> ProbeResult:
        """§8.5: a login at `owner` with `kc_idp_hint=<source>-idp` must land on `source`'s login page."""
        app = self._admin(owner).client(owner.client_id)
        redirects = [uri for uri in (app or {}).get("redirectUris") or [] if "*" not in uri]
        if not redirects:
            return ProbeResult(False, f"app client {owner.client_id} in {owner.realm} has no exact redirect URI")
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        params = {
            "client_id": owner.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirects[0],
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "kc_idp_hint": source.alias,
        }
        location = self._first_foreign_redirect(f"{owner.issuer}/protocol/openid-connect/auth", params, owner)
        if location is None:
            return ProbeResult(False, f"{owner.display} did not redirect to {source.display}")
        wanted = urlsplit(self._discovery_of(source).authorization_endpoint)
        got, query = urlsplit(location), parse_qs(urlsplit(location).query)
        if (got.scheme, got.netloc, got.path) != (wanted.scheme, wanted.netloc, wanted.path):
            return ProbeResult(False, f"redirected to {got.scheme}://{got.netloc}{got.path}, not {source.display}")
        if query.get("client_id") != [owner.client_id] or query.get("redirect_uri") != [owner.broker_endpoint(source)]:
            return ProbeResult(False, f"the redirect to {source.display} carries the wrong client_id or redirect_uri")
        status = self.t.http.get(location, timeout=_TIMEOUT_S).status_code
        return ProbeResult(status == 200, f"{source.display} login page → HTTP {status}")

    def _first_foreign_redirect(self, url: str, params: dict[str, str], owner: Partner) -> str | None:
        """Follow redirects that stay on `owner`'s idp (the broker hop); return the first that leaves it."""
        origin = urlsplit(owner.idp_url).netloc
        with httpx.Client(verify=self.t.tls, timeout=_TIMEOUT_S) as browser:
            response = browser.get(url, params=params)
            for _ in range(5):
                if response.status_code not in (302, 303):
                    return None
                location = str(response.url.join(response.headers["location"]))
                if urlsplit(location).netloc != origin:
                    return location
                response = browser.get(location)
        return None

    def _token(self, source: Partner, owner: Partner) -> ProbeResult:
        secret = self.t.app_client_secrets.get(source.code)
        if secret is None or self.t.test_user_password is None:
            return ProbeResult(False, f"no app client secret for {source.display} in the keystore")
        form = {
            "grant_type": "password",
            "client_id": source.client_id,
            "client_secret": secret,
            "username": f"testuser-{source.code}-1",
            "password": self.t.test_user_password,
            "scope": "openid",
        }
        answer = self.t.http.post(f"{source.issuer}/protocol/openid-connect/token", data=form, timeout=_TIMEOUT_S)
        if answer.status_code != 200:
            return ProbeResult(False, f"password grant of testuser-{source.code}-1 → HTTP {answer.status_code}")
        token = answer.json()["access_token"]
        me = self.t.http.get(
            f"{owner.api_url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=_TIMEOUT_S
        )
        if me.status_code != 200:
            return ProbeResult(False, f"{owner.display} api /api/me → HTTP {me.status_code}")
        body = me.json()
        ok = body.get("iss") == source.issuer and body.get("countryOfAffiliation") == source.display
        return ProbeResult(ok, f"{owner.display} api accepted the {source.display} token")

    def _kas(self) -> ProbeResult:
        kas_id = f"{self.t.spoke.code}-kas"
        records = self.t.hub_records if self.t.hub_db_url is None else None
        hub = records.kas(kas_id) if records is not None else _kas_entry(self.t.hub_db_url, kas_id)
        spoke = _kas_entry(self.t.spoke_db_url, kas_id)
        if hub is None or hub[0] != "approved":
            return ProbeResult(False, f"{kas_id} is {hub[0] if hub else 'absent'} in the hub KAS registry")
        if spoke is not None and spoke[0] != "approved":
            return ProbeResult(False, f"{kas_id} is {spoke[0]} in the {self.t.spoke.display} KAS registry")
        url, fingerprints = hub[1], hub[2]
        served = self.t.http.get(f"{url}/v2/kas_public_key", timeout=_TIMEOUT_S)
        if served.status_code != 200:
            return ProbeResult(False, f"GET {url}/v2/kas_public_key → HTTP {served.status_code}")
        body = served.json()
        if fingerprints.get(str(body.get("kid"))) != _fingerprint(str(body.get("publicKey"))):
            return ProbeResult(False, f"served key {body.get('kid')} does not match kas_registry_keys")
        probe = self.t.http.post(f"{url}/v2/rewrap", json={"signedRequestToken": "probe"}, timeout=_TIMEOUT_S)
        return ProbeResult(
            probe.status_code == 401, f"key {body.get('kid')} matches; probe rewrap → {probe.status_code}"
        )


def _kas_entry(url: str | None, kas_id: str) -> tuple[str, str, dict[str, str]] | None:
    if url is None:
        return None
    with instance_session(url) as session:
        entry = session.get(KasRegistryEntry, kas_id)
        if entry is None:
            return None
        keys = session.scalars(select(KasRegistryKey).where(KasRegistryKey.kas_id == kas_id))
        return entry.status, entry.url.rstrip("/"), {k.kid: k.fingerprint for k in keys}


def _fingerprint(pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return ""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()
