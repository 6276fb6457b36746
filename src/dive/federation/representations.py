"""The link objects as Keycloak representations (orchestration §8.3 as amended by CONSISTENCY #15): pure, no I/O.

The identity provider follows identity-api-ui §A.8 (`trustEmail: false`, `dive.expectedCountry`, `defaultScope
"openid profile email"`, no post-broker flow, A.8's default mapper set). The federation client registers exactly one
redirect URI, the broker endpoint, without a wildcard."""

from __future__ import annotations

from typing import Any, Final

from dive import catalog
from dive.federation.discovery import Discovery
from dive.federation.partners import Partner

__all__ = [
    "ATTRIBUTE_IMPORTER",
    "USERNAME_TEMPLATE",
    "federation_client",
    "identity_provider",
    "identity_provider_mappers",
]

ATTRIBUTE_IMPORTER: Final = "oidc-user-attribute-idp-mapper"
USERNAME_MAPPER: Final = "oidc-username-idp-mapper"
USERNAME_TEMPLATE: Final = "${ALIAS}.${CLAIM.preferred_username}"
# identity-api-ui §A.8: claim → user attribute.
_IMPORTED_CLAIMS: Final = (
    ("uniqueID", "uniqueID"),
    ("clearance", "clearance"),
    ("countryOfAffiliation", "countryOfAffiliation"),
    ("acpCOI", "acpCOI"),
    ("organizationType", "organizationType"),
    ("email", "email"),
    ("acr", "user_acr"),
    ("amr", "user_amr"),
)
_CLIENT_ATTRIBUTES: Final = ("uniqueID", "clearance", "countryOfAffiliation", "organizationType", "acpCOI",
                             "user_acr", "user_amr")  # fmt: skip
_ACCESS_TOKEN_LIFESPAN_S: Final = "300"


def identity_provider(owner: Partner, source: Partner, discovery: Discovery, secret: str) -> dict[str, Any]:
    """`<source>-idp` in `owner`'s realm: `source`'s users sign in at `owner` (link source → owner)."""
    return {
        "alias": source.alias,
        "displayName": _display_name(source),
        "providerId": "oidc",
        "enabled": True,
        "trustEmail": False,
        "storeToken": False,
        "hideOnLogin": False,
        "linkOnly": False,
        "firstBrokerLoginFlowAlias": "first broker login",
        "config": {
            "issuer": discovery.issuer,
            "authorizationUrl": discovery.authorization_endpoint,
            "tokenUrl": discovery.token_endpoint,
            "jwksUrl": discovery.jwks_uri,
            "userInfoUrl": discovery.userinfo_endpoint,
            "logoutUrl": discovery.end_session_endpoint,
            "clientId": owner.client_id,
            "clientSecret": secret,
            "clientAuthMethod": "client_secret_post",
            "defaultScope": "openid profile email",
            "syncMode": "FORCE",
            "validateSignature": "true",
            "useJwksUrl": "true",
            "pkceEnabled": "true",
            "pkceMethod": "S256",
            "guiOrder": "2",
            "dive.expectedCountry": source.display,
        },
    }


def identity_provider_mappers(source: Partner) -> list[dict[str, Any]]:
    """A.8's default mapper set for `<source>-idp`, in creation order."""
    importers = [
        {
            "name": attribute,
            "identityProviderAlias": source.alias,
            "identityProviderMapper": ATTRIBUTE_IMPORTER,
            "config": {"claim": claim, "user.attribute": attribute, "syncMode": "INHERIT"},
        }
        for claim, attribute in _IMPORTED_CLAIMS
    ]
    username = {
        "name": "username",
        "identityProviderAlias": source.alias,
        "identityProviderMapper": USERNAME_MAPPER,
        "config": {"template": USERNAME_TEMPLATE, "syncMode": "INHERIT"},
    }
    return [*importers, username]


def federation_client(owner: Partner, target: Partner, secret: str) -> dict[str, Any]:
    """`dive-v3-broker-<target>` in `owner`'s realm: `owner`'s users sign in at `target` (link owner → target)."""
    mappers = [_attribute_mapper(name, multivalued=name == "acpCOI") for name in _CLIENT_ATTRIBUTES]
    mappers += [_session_mapper("acr", "oidc-acr-mapper"), _session_mapper("amr", "oidc-amr-mapper")]
    return {
        "clientId": target.client_id,
        "name": f"Federation: {target.display} users from {owner.display}",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "secret": secret,
        "standardFlowEnabled": True,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "redirectUris": [target.broker_endpoint(owner)],
        "webOrigins": [],
        "attributes": {"access.token.lifespan": _ACCESS_TOKEN_LIFESPAN_S, "pkce.code.challenge.method": "S256"},
        "protocolMappers": mappers,
    }


def _attribute_mapper(name: str, *, multivalued: bool) -> dict[str, Any]:
    return {
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-usermodel-attribute-mapper",
        "config": {
            "user.attribute": name,
            "claim.name": name,
            "multivalued": str(multivalued).lower(),
            **_TOKEN_TARGETS,
        },
    }


def _session_mapper(name: str, mapper: str) -> dict[str, Any]:
    return {"name": name, "protocol": "openid-connect", "protocolMapper": mapper, "config": dict(_TOKEN_TARGETS)}


_TOKEN_TARGETS: Final = {"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}


def _display_name(partner: Partner) -> str:
    return catalog.instance(partner.code).name if catalog.is_catalog_code(partner.code) else partner.display
