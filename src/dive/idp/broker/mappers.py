"""Identity-provider mappers (§A.8 step 6): attribute importer, hardcoded attribute, username template.
Applied in creation order; FORCE rewrites on every login (an absent claim removes the attribute), IMPORT
(and LEGACY) only at the first login; INHERIT takes the IdP's sync mode."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_USERNAME_TEMPLATE", "apply_mappers", "render_username"]

DEFAULT_USERNAME_TEMPLATE = "${ALIAS}.${CLAIM.preferred_username}"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_.]+)\}")


def _values(claim: Any) -> list[str] | None:
    if claim is None:
        return None
    items = claim if isinstance(claim, list) else [claim]
    return [str(v) for v in items if v is not None and not isinstance(v, dict | list)]


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def apply_mappers(
    attributes: Mapping[str, list[str]],
    claims: Mapping[str, Any],
    mappers: Sequence[Mapping[str, Any]],
    *,
    idp_sync_mode: str,
    first_login: bool,
) -> dict[str, list[str]]:
    result = {k: list(v) for k, v in attributes.items()}
    for mapper in mappers:
        config = mapper.get("config") or {}
        mode = str(config.get("syncMode") or "INHERIT")
        mode = idp_sync_mode if mode == "INHERIT" else mode
        if mode != "FORCE" and not first_login:
            continue
        kind = mapper.get("identityProviderMapper")
        target = str(config.get("user.attribute") or config.get("attribute") or "")
        if not target:
            continue
        if kind == "oidc-user-attribute-idp-mapper":
            values = _values(_claim(claims, str(config.get("claim") or "")))
            if values:
                result[target] = values
            else:
                result.pop(target, None)
        elif kind == "hardcoded-attribute-idp-mapper":
            result[target] = [str(config.get("attribute.value") or "")]
    return result


def render_username(template: str, *, alias: str, claims: Mapping[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "ALIAS":
            return alias
        if name.startswith("CLAIM."):
            return str(_claim(claims, name.removeprefix("CLAIM.")) or "")
        return ""

    return _PLACEHOLDER.sub(substitute, template).lower()
