"""The link objects written by the linking code (orchestration §8.3 as ruled by CONSISTENCY #15)."""

from __future__ import annotations

from dive.federation.discovery import Discovery
from dive.federation.partners import local_partner
from dive.federation.registration import registration_verdict
from dive.federation.representations import federation_client, identity_provider, identity_provider_mappers

USA, FRA = local_partner("usa", {}), local_partner("FRA", {})
DISCOVERY = Discovery(issuer=FRA.issuer, authorization_endpoint=f"{FRA.issuer}/protocol/openid-connect/auth",
                      token_endpoint="t", jwks_uri="j", userinfo_endpoint="u", end_session_endpoint="e")  # fmt: skip


def test_the_partner_identity_provider_trusts_no_email_and_accepts_only_the_partners_nationals():
    idp = identity_provider(USA, FRA, DISCOVERY, "secret")
    assert idp["alias"] == "fra-idp" and idp["trustEmail"] is False and idp["displayName"] == "France"
    assert idp["config"]["dive.expectedCountry"] == "FRA" and idp["config"]["clientId"] == "dive-v3-broker-usa"
    assert idp["config"]["defaultScope"] == "openid profile email" and "postBrokerLoginFlowAlias" not in idp


def test_the_mapper_set_imports_acr_and_amr_into_user_acr_and_user_amr_plus_a_username_template():
    mappers = {m["name"]: m for m in identity_provider_mappers(FRA)}
    assert mappers["user_acr"]["config"]["claim"] == "acr" and mappers["user_amr"]["config"]["claim"] == "amr"
    assert mappers["username"]["identityProviderMapper"] == "oidc-username-idp-mapper"
    assert "email" in mappers


def test_the_federation_client_registers_exactly_the_broker_endpoint_without_a_wildcard():
    client = federation_client(FRA, USA, "secret")
    assert client["clientId"] == "dive-v3-broker-usa"
    assert client["redirectUris"] == ["https://localhost:8443/realms/dive-v3-broker-usa/broker/fra-idp/endpoint"]
    assert client["directAccessGrantsEnabled"] is False and client["attributes"]["access.token.lifespan"] == "300"


def test_a_registry_record_becomes_a_verdict_for_the_spoke_pipeline():
    assert registration_verdict({"status": "pending"}) == "pending"
    assert registration_verdict({"status": "revoked"}) == "rejected"
    assert registration_verdict({"status": "approved", "linkStatus": "failed"}) == "link_failed"
    assert registration_verdict({"status": "approved", "linkStatus": "active"}) == "ready"
