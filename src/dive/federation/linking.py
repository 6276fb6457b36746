"""Create, update, disable and remove the identity-provider links of a pair (orchestration §8.1, §8.3, §8.6).

Each realm half is written by its own side through its own idp's admin API: in realm R, for partner P, the identity
provider `<p>-idp` (P's users sign in at R) and the federation client `dive-v3-broker-<p>` (R's users sign in at P).
Every function is idempotent: objects already as desired are left alone and reported as unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from dive.federation.discovery import fetch_discovery
from dive.federation.idp_admin import IdpAdminClient, JsonObject
from dive.federation.partners import Partner
from dive.federation.representations import federation_client, identity_provider, identity_provider_mappers

__all__ = [
    "LinkSide",
    "ensure_realm_half",
    "link_partners",
    "remove_realm_half",
    "set_realm_half_enabled",
    "unlink_partners",
]

_MASK = "**********"


@dataclass(frozen=True)
class LinkSide:
    """One instance whose realm this process may write: its partner view and its admin client."""

    partner: Partner
    admin: IdpAdminClient


def ensure_realm_half(own: LinkSide, partner: Partner, secret: str, http: httpx.Client) -> list[str]:
    """Bring `<partner>-idp`, its mappers and `dive-v3-broker-<partner>` in `own`'s realm to the desired state.

    Needs `partner`'s discovery document (its idp must answer). Returns the changes made (empty: nothing to do)."""
    me = own.partner
    discovery = fetch_discovery(http, partner)
    changes: list[str] = []
    wanted_idp = identity_provider(me, partner, discovery, secret)
    if _differs(own.admin.identity_provider(partner.alias), wanted_idp):
        own.admin.put_identity_provider(wanted_idp)
        changes.append(f"{partner.alias} in {me.realm}")
    present = {m.get("name") for m in own.admin.mappers(partner.alias)}
    for mapper in identity_provider_mappers(partner):
        if mapper["name"] not in present:
            own.admin.add_mapper(partner.alias, mapper)
            changes.append(f"mapper {mapper['name']} of {partner.alias}")
    wanted_client = federation_client(me, partner, secret)
    if _differs(own.admin.client(partner.client_id), wanted_client, secret_field="secret"):
        own.admin.put_client(wanted_client)
        changes.append(f"client {partner.client_id} in {me.realm}")
    if changes:
        own.admin.clear_caches()
    return changes


def remove_realm_half(own: LinkSide, partner: Partner) -> list[str]:
    """Delete `<partner>-idp` (with its mappers) and `dive-v3-broker-<partner>` from `own`'s realm."""
    removed = []
    if own.admin.delete_identity_provider(partner.alias):
        removed.append(f"{partner.alias} in {own.partner.realm}")
    if own.admin.delete_client(partner.client_id):
        removed.append(f"client {partner.client_id} in {own.partner.realm}")
    if removed:
        own.admin.clear_caches()
    return removed


def set_realm_half_enabled(own: LinkSide, partner: Partner, *, enabled: bool) -> list[str]:
    """`enabled` on both objects of the half (suspend disables them, §8.6); absent objects are skipped."""
    changed = []
    idp = own.admin.identity_provider(partner.alias)
    if idp is not None and bool(idp.get("enabled")) != enabled:
        own.admin.put_identity_provider({**idp, "enabled": enabled})
        changed.append(f"{partner.alias} in {own.partner.realm}")
    client = own.admin.client(partner.client_id)
    if client is not None and bool(client.get("enabled")) != enabled:
        own.admin.put_client({**client, "enabled": enabled})
        changed.append(f"client {partner.client_id} in {own.partner.realm}")
    if changed:
        own.admin.clear_caches()
    return changed


def link_partners(first: LinkSide, second: LinkSide, secret: str, http: httpx.Client) -> list[str]:
    """Both links of a pair whose two realms this process may write (a local deployment; §8.6 `link`)."""
    return ensure_realm_half(first, second.partner, secret, http) + ensure_realm_half(
        second, first.partner, secret, http
    )


def unlink_partners(first: LinkSide, second: LinkSide) -> list[str]:
    """Remove both links of a pair (§8.6 `unlink`); the registry status is not touched."""
    return remove_realm_half(first, second.partner) + remove_realm_half(second, first.partner)


def _differs(current: JsonObject | None, wanted: dict[str, Any], *, secret_field: str = "") -> bool:
    """True when `current` is absent or any wanted field differs; masked or unreadable secrets compare equal."""
    if current is None:
        return True
    for key, value in wanted.items():
        if key == secret_field or key == "protocolMappers":
            continue
        if key == "config":
            config = current.get("config") or {}
            if any(config.get(k) != v for k, v in value.items() if k != "clientSecret"):
                return True
        elif current.get(key) != value:
            return True
    return False
