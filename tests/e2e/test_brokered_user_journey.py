"""A French user's day at the hub, over real processes (identity-api-ui §A.8, §B.2–§B.6): the USA and FRA idps
(`dive serve idp`), KASs and apis. The user signs in at FRA with password and TOTP through the hub realm
(`kc_idp_hint=fra-idp`), and the hub api, whose registry trusts only the hub issuer for its own realm, serves the
hub token: federated search over USA and FRA, an allowed SECRET document opened, a denied one explained, an upload.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pyotp
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from dive.seed.documents import seed_label
from harness import ServiceProcess, pick_free_port, start_service
from integration.api.deployment import AS_OF, register_partner, seed, start_api, start_kas
from partner_idp import admin_client, fast_idp_environment

from .browser import BrokeredLogin, sign_in_through_partner

PASSWORD = "Test-user-pass-123!"
HUB_REALM, FRA_REALM = "dive-v3-broker-usa", "dive-v3-broker-fra"
WEB_SECRET, FEDERATION_SECRET = "web-secret-" + "w" * 30, "federation-secret-" + "f" * 30
WEB_REDIRECT = "https://localhost:3000/auth/callback"
IMPORTER = "oidc-user-attribute-idp-mapper"
USER = "testuser-fra-3"
USA_SEEDED, FRA_SEEDED = 40, 10


@dataclass
class Coalition:
    apis: dict[str, ServiceProcess]
    hub_issuer: str
    usa_ids: list[str]
    login: BrokeredLogin
    otp_secret: str


def _configure_fra(fra: str, hub: str, ca: ssl.SSLContext, otp_secret: str) -> None:
    user = {"username": USER, "email": "trois@defense.gouv.fr",
            "attributes": {"uniqueID": [USER], "clearance": ["SECRET DEFENSE"], "countryOfAffiliation": ["FRA"],
                           "acpCOI": ["NATO"], "organizationType": ["GOV"]},
            "credentials": [{"type": "password", "value": PASSWORD},
                            {"type": "otp", "secretData": {"value": otp_secret}}]}  # fmt: skip
    realm = {"realm": FRA_REALM, "enabled": True, "users": [user],
             "clients": [{"clientId": HUB_REALM, "secret": FEDERATION_SECRET,
                          "redirectUris": [f"{hub}/realms/{HUB_REALM}/broker/fra-idp/endpoint"]}]}  # fmt: skip
    with admin_client(fra, ca) as admin:
        assert admin.post("/admin/realms", json=realm).status_code == 201


def _configure_hub(hub: str, fra: str, ca: ssl.SSLContext) -> None:
    oidc = f"{fra}/realms/{FRA_REALM}/protocol/openid-connect"
    idp = {"alias": "fra-idp", "displayName": "France", "providerId": "oidc", "enabled": True,
           "config": {"authorizationUrl": f"{oidc}/auth", "tokenUrl": f"{oidc}/token", "jwksUrl": f"{oidc}/certs",
                      "issuer": f"{fra}/realms/{FRA_REALM}", "clientId": HUB_REALM, "clientSecret": FEDERATION_SECRET,
                      "clientAuthMethod": "client_secret_post", "defaultScope": "openid profile email",
                      "syncMode": "FORCE", "validateSignature": "true", "useJwksUrl": "true", "pkceEnabled": "true",
                      "pkceMethod": "S256", "dive.expectedCountry": "FRA"}}  # fmt: skip
    claims = ["uniqueID", "clearance", "countryOfAffiliation", "acpCOI", "organizationType", "email"]
    mappers = [{"name": c, "identityProviderAlias": "fra-idp", "identityProviderMapper": IMPORTER,
                "config": {"claim": c, "user.attribute": c, "syncMode": "INHERIT"}} for c in claims]  # fmt: skip
    realm = {"realm": HUB_REALM, "enabled": True, "identityProviders": [idp], "identityProviderMappers": mappers,
             "clients": [{"clientId": HUB_REALM, "secret": WEB_SECRET, "redirectUris": [WEB_REDIRECT],
                          "attributes": {"pkce.code.challenge.method": "S256",
                                         "dive.audiences": "dive-v3-api,dive-v3-kas"}}]}  # fmt: skip
    with admin_client(hub, ca) as admin:
        assert admin.post("/admin/realms", json=realm).status_code == 201


@pytest.fixture(scope="module")
def coalition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coalition]:
    """Both idps configured through their admin APIs, both KASs, seeded stores, each registry trusting the other."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    home.mkdir(mode=0o700)
    started: list[ServiceProcess] = []
    try:
        ports = {code: pick_free_port() for code in ("usa", "fra")}
        for code, port in ports.items():
            env = fast_idp_environment(code.upper())
            started.append(start_service("idp", code, home=home, env=env, port=port, timeout_s=60))
        hub, fra = (f"https://localhost:{ports[code]}" for code in ("usa", "fra"))
        ca = ssl.create_default_context(cafile=str(started[0].ca_bundle))
        otp_secret = pyotp.random_base32()
        _configure_fra(fra, hub, ca, otp_secret)
        _configure_hub(hub, fra, ca)
        issuers = {"usa": f"{hub}/realms/{HUB_REALM}", "fra": f"{fra}/realms/{FRA_REALM}"}
        for code in ("usa", "fra"):
            started.append(start_kas(home, code, issuers[code]))
        usa_ids = seed(home, "usa", USA_SEEDED)
        seed(home, "fra", FRA_SEEDED)
        register_partner(home, "fra", "usa", issuer=issuers["usa"], api_url="https://localhost:1")
        apis = {"fra": start_api(home, "fra", issuers["fra"])}
        started.append(apis["fra"])
        register_partner(home, "usa", "fra", issuer=issuers["fra"], api_url=f"https://localhost:{apis['fra'].port}")
        apis["usa"] = start_api(home, "usa", issuers["usa"])
        started.append(apis["usa"])
        login = BrokeredLogin(hub_url=hub, realm=HUB_REALM, client_id=HUB_REALM, client_secret=WEB_SECRET,
                              redirect_uri=WEB_REDIRECT, idp_alias="fra-idp", ca=ca)  # fmt: skip
        yield Coalition(apis=apis, hub_issuer=issuers["usa"], usa_ids=usa_ids, login=login, otp_secret=otp_secret)
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture(scope="module")
def hub_token(coalition: Coalition) -> str:
    return sign_in_through_partner(coalition.login, USER, PASSWORD, coalition.otp_secret)


def _hub_api(coalition: Coalition, token: str) -> httpx.Client:
    return coalition.apis["usa"].client(timeout=60, headers={"Authorization": f"Bearer {token}"})


def _listed_ids(client: httpx.Client, **params: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        paging = {"pageSize": "100", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/resources", params={**params, **paging}).json()
        ids += [item["resourceId"] for item in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            return ids


def test_the_brokered_totp_sign_in_gives_a_hub_token_at_aal2_for_the_french_user(coalition: Coalition, hub_token: str):
    with httpx.Client(verify=coalition.login.ca) as client:
        jwks = KeySet.import_key_set(client.get(f"{coalition.hub_issuer}/protocol/openid-connect/certs").json())
    claims = jwt.decode(hub_token, jwks, algorithms=["RS256"]).claims
    assert claims["iss"] == coalition.hub_issuer and claims["identity_provider"] == "fra-idp"
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp"]
    assert claims["countryOfAffiliation"] == "FRA" and claims["clearance"] == "SECRET DEFENSE"
    with _hub_api(coalition, hub_token) as api:
        me = api.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["countryOfAffiliation"] == "FRA"


def test_federated_search_at_the_hub_reaches_usa_and_fra_with_the_hub_token(coalition: Coalition, hub_token: str):
    with _hub_api(coalition, hub_token) as api:
        response = api.get("/api/resources/federated-search", params={"pageSize": "100"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {code: c["status"] for code, c in body["_clusters"]["instances"].items()} == {"USA": "ok", "FRA": "ok"}
    assert {item["instance"] for item in body["items"]} == {"USA", "FRA"}


def test_the_user_opens_an_allowed_secret_document_and_reads_what_was_encrypted(coalition: Coalition, hub_token: str):
    with _hub_api(coalition, hub_token) as api:
        secret = _listed_ids(api, classification="SECRET")
        assert secret, "no SECRET document of USA is releasable to this user; seed more documents"
        content = api.get(f"/api/resources/{secret[0]}/content")
    assert content.status_code == 200, content.text
    index = int(secret[0].rsplit("-", 1)[1])
    assert content.content == seed_label("dive", "usa", index, AS_OF).plaintext


def test_a_denied_document_answers_403_with_the_reason_and_the_checklist(coalition: Coalition, hub_token: str):
    with _hub_api(coalition, hub_token) as api:
        listed = set(_listed_ids(api))
        denied = next(rid for rid in coalition.usa_ids if rid not in listed)
        response = api.get(f"/api/resources/{denied}")
        content = api.get(f"/api/resources/{denied}/content")
    body = response.json()
    assert response.status_code == 403 and body["error"] == "access_denied"
    decision = body["details"]["decision"]
    assert decision["allow"] is False and decision["reason"] == body["message"]
    failed = [check["id"] for check in decision["checks"] if not check["passed"]]
    assert failed and {check["id"] for check in decision["checks"]} >= {"authenticated", "clearance_sufficient"}
    assert content.status_code == 403 and content.json()["error"] == "access_denied"


def test_an_upload_by_the_brokered_user_round_trips(coalition: Coalition, hub_token: str):
    plaintext = b"Compte rendu de la reunion de coordination"
    data = {"title": "Compte rendu", "classification": "SECRET", "releasabilityTo": ["FRA", "USA"], "coi": ["NATO"]}
    with _hub_api(coalition, hub_token) as api:
        created = api.post("/api/resources", files={"file": ("cr.txt", plaintext)}, data=data)
        assert created.status_code == 201, created.text
        rid = created.json()["resourceId"]
        content = api.get(f"/api/resources/{rid}/content")
        listed = _listed_ids(api, classification="SECRET")
    assert content.status_code == 200 and content.content == plaintext
    assert rid in listed
