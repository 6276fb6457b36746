"""The broker flow (§A.8): `begin` sends the browser to the partner; `finish` checks state, exchanges the code,
verifies the partner's ID token, finds or creates the local user (never linking an existing account),
applies the mappers and returns what the hub session must record (acr/amr passthrough)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dive.idp.administration import assign_roles, default_roles
from dive.idp.broker.mappers import DEFAULT_USERNAME_TEMPLATE, apply_mappers, render_username
from dive.idp.broker.upstream_token import verify_upstream_id_token
from dive.idp.core import IdpCore
from dive.idp.errors import BrokerError
from dive.idp.logins import AuthorizationRequest
from dive.idp.model import Realm, User
from dive.idp.oauth.rfc6749 import add_query
from dive.idp.repository import IdentityProvider, new_id
from dive.idp.session_store import AuthSession, BrokerState

__all__ = ["BrokeredLogin", "begin_broker_login", "finish_broker_login", "upstream_acr", "upstream_amr"]

STATE_LIFETIME = timedelta(minutes=10)
REQUIRED_ATTRIBUTES = ("uniqueID", "clearance", "countryOfAffiliation")
ACR_VALUES = ("0", "1", "2", "3")


@dataclass(frozen=True, kw_only=True)
class BrokeredLogin:
    login: AuthSession
    user: User
    acr: str
    amr: tuple[str, ...]


def broker_endpoint(core: IdpCore, realm: Realm, alias: str) -> str:
    return f"{core.issuer(realm)}/broker/{alias}/endpoint"


def find_enabled_idp(core: IdpCore, realm: Realm, alias: str) -> IdentityProvider:
    idp = core.directory.idp(realm.id, alias, visible_at=core.visible_at())
    if idp is None or not idp.enabled:
        raise BrokerError("idp_not_found", f"Identity provider {alias} is not available.")
    return idp


def begin_broker_login(core: IdpCore, realm: Realm, alias: str, login: AuthSession) -> str:
    idp = find_enabled_idp(core, realm, alias)
    state = BrokerState(state=secrets.token_urlsafe(24), realm_id=realm.id, alias=alias, auth_session_id=login.id,
                        nonce=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(48),
                        expires_at=core.now() + STATE_LIFETIME)  # fmt: skip
    core.store.save_broker_state(state)
    auth = AuthorizationRequest.from_params(login.params)
    return add_query(str(idp.config("authorizationUrl")), {
        "client_id": idp.config("clientId"), "response_type": "code",
        "scope": idp.config("defaultScope") or "openid", "redirect_uri": broker_endpoint(core, realm, alias),
        "state": state.state, "nonce": state.nonce,
        "code_challenge": create_s256_code_challenge(state.code_verifier), "code_challenge_method": "S256",
        "login_hint": auth.login_hint, "prompt": auth.prompt, "acr_values": auth.acr_values,
    })  # fmt: skip


def finish_broker_login(core: IdpCore, realm: Realm, alias: str, query: Mapping[str, str]) -> BrokeredLogin:
    idp = find_enabled_idp(core, realm, alias)
    if query.get("error"):
        raise BrokerError("upstream_error", f"the partner answered {query['error']!r}")
    state = core.store.consume_broker_state(query.get("state", ""), core.now())
    if state is None or state.alias != alias or state.realm_id != realm.id:
        raise BrokerError("broker_state_invalid", "the broker state is unknown, expired, used or for another IdP")
    login = core.store.auth_session(state.auth_session_id, core.now())
    if login is None:
        raise BrokerError("broker_state_invalid", "the login this broker state belongs to has expired")
    tokens = core.partners.exchange_code(idp, code=query.get("code", ""), verifier=state.code_verifier,
                                         redirect_uri=broker_endpoint(core, realm, alias))  # fmt: skip
    claims = verify_upstream_id_token(
        tokens["id_token"], issuer=str(idp.config("issuer")), client_id=str(idp.config("clientId")),
        nonce=state.nonce, find_key=lambda kid: core.partners.find_key(idp, kid), now=core.now_s(),
    )  # fmt: skip
    acr, amr = upstream_acr(claims.get("acr")), upstream_amr(claims.get("amr"))
    if AuthorizationRequest.from_params(login.params).wants_otp and acr < "2":
        raise BrokerError("insufficient_acr", f"{alias} authenticated the user with acr {acr}; this login needs 2")
    user = _import_user(core, realm, idp, claims, acr=acr, amr=amr)
    return BrokeredLogin(login=login, user=user, acr=acr, amr=amr)


def upstream_acr(value: Any) -> str:
    return value if isinstance(value, str) and value in ACR_VALUES else "0"


def upstream_amr(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 5:
        return ()
    if not all(isinstance(v, str) and 0 < len(v) <= 32 for v in value):
        return ()
    return tuple(value)


def _import_user(
    core: IdpCore, realm: Realm, idp: IdentityProvider, claims: Mapping[str, Any], *, acr: str, amr: tuple[str, ...]
) -> User:
    subject = str(claims["sub"])
    linked = core.directory.linked_user(realm.id, idp.alias, subject)
    existing = core.directory.user(realm.id, linked) if linked else None
    first_login = existing is None
    mappers = core.directory.mappers(realm.id, idp.alias)
    base = existing or _new_user(core, realm, idp, mappers, claims)
    sync_mode = "FORCE" if (idp.config("syncMode") or "FORCE") == "FORCE" else "IMPORT"
    attributes = apply_mappers(base.attributes, claims, mappers, idp_sync_mode=sync_mode, first_login=first_login)
    attributes.update(user_acr=[acr], user_amr=list(amr))
    email = claims.get("email") if isinstance(claims.get("email"), str) else base.email
    user = replace(base, attributes=attributes, email=email if (first_login or sync_mode == "FORCE") else base.email)
    _check_attributes(idp, user)
    if first_login:
        core.directory.create_user(user)
        core.directory.link_user(realm.id, idp.alias, subject, user.id, str(claims.get("preferred_username") or ""))
        assign_roles(core, realm, user, default_roles(realm))
        core.event(realm, "IDENTITY_PROVIDER_FIRST_LOGIN", user_id=user.id, details={"identity_provider": idp.alias})
    else:
        core.directory.update_user(user)
        core.event(realm, "IDENTITY_PROVIDER_LOGIN", user_id=user.id, details={"identity_provider": idp.alias})
    return user


def _new_user(core: IdpCore, realm: Realm, idp: IdentityProvider, mappers: list[dict[str, Any]],
              claims: Mapping[str, Any]) -> User:  # fmt: skip
    """First broker login: a new account whose name never collides with (and so never links to) a local one."""
    templates = [(m.get("config") or {}).get("template") for m in mappers
                 if m.get("identityProviderMapper") == "oidc-username-idp-mapper"]  # fmt: skip
    template = str(templates[0] or DEFAULT_USERNAME_TEMPLATE) if templates else DEFAULT_USERNAME_TEMPLATE
    wanted = render_username(template, alias=idp.alias, claims=claims) or f"{idp.alias}.{claims['sub']}".lower()
    username, suffix = wanted, 1
    while core.directory.user_by_username(realm.id, username) is not None:
        suffix += 1
        username = f"{wanted}-{suffix}"
    return User(id=new_id(), realm_id=realm.id, username=username, created_ms=core.now_ms(),
                first_name=claims.get("given_name"), last_name=claims.get("family_name"))  # fmt: skip


def _check_attributes(idp: IdentityProvider, user: User) -> None:
    missing = [name for name in REQUIRED_ATTRIBUTES if not user.first(name)]
    if missing:
        raise BrokerError("invalid_federated_attributes", f"{idp.alias} did not assert {', '.join(missing)}")
    expected = idp.config("dive.expectedCountry")
    if expected and user.first("countryOfAffiliation") != expected:
        raise BrokerError("invalid_federated_attributes",
                          f"{idp.alias} may only assert nationals of {expected}")  # fmt: skip
