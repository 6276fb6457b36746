"""Identity-provider and mapper representations (§A.8): validation, secret masking, round-trip."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dive.idp.admin.representations import validation_error
from dive.idp.repository import IdentityProvider

__all__ = ["MAPPER_TYPES", "SECRET_MASK", "idp_from_rep", "idp_to_rep", "validate_mapper"]

SECRET_MASK = "**********"
ALIAS_SYNTAX = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
MAPPER_TYPES = frozenset(
    {"oidc-user-attribute-idp-mapper", "oidc-username-idp-mapper", "hardcoded-attribute-idp-mapper"}
)
_DEFAULTS: Mapping[str, Any] = {
    "providerId": "oidc",
    "enabled": True,
    "trustEmail": False,
    "storeToken": False,
    "hideOnLogin": False,
    "linkOnly": False,
    "firstBrokerLoginFlowAlias": "first broker login",
}
_URL_KEYS = ("authorizationUrl", "tokenUrl", "jwksUrl", "issuer")


def idp_from_rep(rep: Mapping[str, Any], *, base: IdentityProvider | None) -> IdentityProvider:
    merged: dict[str, Any] = {**_DEFAULTS, **(base.representation if base else {}), **rep}
    alias = merged.get("alias")
    if not isinstance(alias, str) or not ALIAS_SYNTAX.fullmatch(alias):
        raise validation_error(f"Invalid alias {alias!r}: use 2-63 characters a-z, 0-9 and '-'")
    if merged.get("providerId") not in ("oidc", "keycloak-oidc"):
        raise validation_error("providerId must be oidc or keycloak-oidc")
    config = {str(k): str(v) for k, v in (merged.get("config") or {}).items()}
    config.setdefault("syncMode", "FORCE")
    _validate_config(config)
    secret = config.pop("clientSecret", None)
    if secret in (None, "", SECRET_MASK):
        secret = base.secret if base else None
    merged["config"] = config
    return IdentityProvider(alias=alias, secret=secret, representation=merged)


def _validate_config(config: Mapping[str, str]) -> None:
    for key in _URL_KEYS:
        if not config.get(key, "").startswith("https://"):
            raise validation_error(f"config.{key} must be an https URL")
    if not config.get("clientId"):
        raise validation_error("config.clientId is missing")
    if config.get("validateSignature") != "true" or config.get("useJwksUrl") != "true":
        raise validation_error('config.validateSignature and config.useJwksUrl must be "true"')
    if "openid" not in config.get("defaultScope", "openid").split():
        raise validation_error("config.defaultScope must contain openid")
    if config["syncMode"] not in ("IMPORT", "FORCE", "LEGACY"):
        raise validation_error("config.syncMode must be IMPORT, FORCE or LEGACY")


def idp_to_rep(idp: IdentityProvider, internal_id: str | None = None) -> dict[str, Any]:
    config = dict(idp.representation.get("config") or {})
    if idp.secret:
        config["clientSecret"] = SECRET_MASK
    rep = {**idp.representation, "alias": idp.alias, "config": config}
    if internal_id:
        rep["internalId"] = internal_id
    return rep


def validate_mapper(rep: Mapping[str, Any]) -> dict[str, Any]:
    if rep.get("identityProviderMapper") not in MAPPER_TYPES:
        raise validation_error(f"Unsupported mapper type {rep.get('identityProviderMapper')!r}")
    if not rep.get("name"):
        raise validation_error("Mapper name is missing")
    config = {str(k): str(v) for k, v in (rep.get("config") or {}).items()}
    if config.get("syncMode", "INHERIT") not in ("INHERIT", "IMPORT", "FORCE", "LEGACY"):
        raise validation_error("config.syncMode must be INHERIT, IMPORT, FORCE or LEGACY")
    return {**rep, "config": config}
