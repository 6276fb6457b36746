"""First start (§A.1): the `master` realm with the public client `admin-cli`, role `admin` and user `admin`
whose password comes from the secrets provider; at every start, the key-rotation check of each realm (§A.2)."""

from __future__ import annotations

import logging

from dive.idp.administration import create_client, create_realm, create_user
from dive.idp.core import IdpCore
from dive.idp.errors import IdpError
from dive.idp.model import Realm
from dive.idp.realm_names import MASTER_REALM

__all__ = ["bootstrap", "rotate_due_keys"]

log = logging.getLogger(__name__)


def bootstrap(core: IdpCore) -> None:
    if core.directory.realm(MASTER_REALM) is None:
        _create_master(core)
    rotate_due_keys(core)


def _create_master(core: IdpCore) -> Realm:
    password = core.settings.admin_password
    if not password:
        raise IdpError(
            "settings_invalid",
            "the master admin password is missing: set the secret <c>/idp-admin-password (dive secrets load)",
        )
    realm = create_realm(
        core,
        {
            "realm": MASTER_REALM,
            "displayName": "Keycloak",
            "enabled": True,
            "defaultRoles": [],
            "passwordPolicy": "",
        },
    )
    core.directory.create_role(realm.id, "admin", "Administrator of the identity provider")
    create_client(core, realm, {"clientId": "admin-cli", "publicClient": True, "directAccessGrantsEnabled": True,
                                "standardFlowEnabled": False, "name": "admin-cli"})  # fmt: skip
    credential = {"type": "password", "value": password, "temporary": False}
    create_user(core, realm, {"username": "admin", "realmRoles": ["admin"], "credentials": [credential]})
    log.info("master realm bootstrapped")
    return realm


def rotate_due_keys(core: IdpCore) -> None:
    for realm in core.directory.realms():
        core.keys.ensure(realm, core.now())
