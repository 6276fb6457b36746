"""What secrets an instance needs, how each is generated, validated and delivered (spec/orchestration.md §9.2, §9.4;
CONSISTENCY #22 adds `<c>/admin-user-password`, #28 delivers the data-protection key to web too)."""

from __future__ import annotations

import base64
import functools
import os
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from dive.secrets.errors import SecretInsecureError
from dive.secrets.provider import SecretsProvider

__all__ = [
    "SHARED_ORCHESTRATION_READER_PASSWORD",
    "SHARED_TEST_USER_PASSWORD",
    "SecretSpec",
    "ensure_secrets",
    "generate",
    "instance_secrets",
    "password",
    "secret_variable",
    "secrets_for_service",
    "validate_secret",
]

Kind = Literal["password", "token", "key", "totp"]

SHARED_TEST_USER_PASSWORD: Final = "_shared/test-user-password"
# PostgreSQL only: role `dive_orchestration_reader`, delivered inside the api's DIVE_ORCH_DATABASE_URL (§12.1).
SHARED_ORCHESTRATION_READER_PASSWORD: Final = "_shared/orchestration-reader-password"
_SYMBOLS: Final = "-_.~!*+"
_PASSWORD_ALPHABET: Final = string.ascii_letters + string.digits + _SYMBOLS
_CLASSES: Final = (string.ascii_lowercase, string.ascii_uppercase, string.digits, _SYMBOLS)
_FORBIDDEN_WORDS: Final = frozenset(
    {"password", "secret", "admin", "changeme", "change-me", "bootstrap-will-be-replaced"}
)
_PLACEHOLDER: Final = re.compile(r"placeholder|changeme|__.*__", re.IGNORECASE)
_MIN_LENGTH: Final[Mapping[Kind, int]] = {"password": 16, "token": 32, "key": 32, "totp": 32}


@dataclass(frozen=True)
class SecretSpec:
    """One row of the §9.2 table: a path, how its value is drawn, and the services it is delivered to."""

    path: str
    kind: Kind
    length: int
    services: tuple[str, ...]


def password(length: int) -> str:
    """§9.2 password(n): letters, digits and `-_.~!*+`, at least one lower, upper, digit and symbol; URL-safe."""
    while True:
        value = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if all(any(c in group for c in value) for group in _CLASSES):
            return value


def generate(spec: SecretSpec) -> str:
    """A fresh value for `spec`, re-drawn until it passes `validate_secret`."""
    draw: Mapping[Kind, Callable[[], str]] = {
        "password": lambda: password(spec.length),
        "token": lambda: secrets.token_urlsafe(spec.length),
        "key": lambda: base64.urlsafe_b64encode(os.urandom(spec.length)).decode().rstrip("="),
        "totp": lambda: base64.b32encode(os.urandom(spec.length)).decode().rstrip("="),
    }
    while True:
        value = draw[spec.kind]()
        if _violation(value, spec.kind) is None:
            return value


def validate_secret(path: str, value: str | None, kind: Kind = "password") -> None:
    """§9.2 validation: `SecretInsecureError` naming the secret (never the value) when it is weak or a placeholder."""
    if value is None:
        raise SecretInsecureError(f"secret {path} is missing; run `dive secrets ensure`")
    violation = _violation(value, kind)
    if violation is not None:
        raise SecretInsecureError(f"secret {path} is rejected: {violation}")


def _violation(value: str, kind: Kind) -> str | None:
    minimum = _MIN_LENGTH[kind]
    if len(value) < minimum:
        return f"shorter than {minimum} characters"
    if value.lower() in _FORBIDDEN_WORDS:
        return "a well-known default value"
    if _PLACEHOLDER.search(value) or value.lower().startswith("todo"):
        return "a placeholder"
    if len(set(value)) == 1:
        return "one repeated character"
    return None


def instance_secrets(code: str, *, totp_users: Sequence[str] = (), test_users: bool = True) -> list[SecretSpec]:
    """The secrets instance `code` needs (§9.2), with the TOTP secrets of `totp_users` and, when `test_users`, the
    shared test-user password. The PostgreSQL role password and the federation secrets are added by their phases."""
    c = code.lower()
    specs = [
        SecretSpec(f"{c}/idp-admin-password", "password", 24, ("idp", "api")),
        SecretSpec(f"{c}/data-protection-key", "key", 32, ("idp", "api", "web")),
        SecretSpec(f"{c}/app-client-secret", "token", 32, ("web",)),
        SecretSpec(f"{c}/backend-client-secret", "token", 32, ("api",)),
        SecretSpec(f"{c}/web-session-secret", "token", 48, ("web",)),
        SecretSpec(f"{c}/federation-admin-key", "token", 32, ("api",)),
        SecretSpec(f"{c}/admin-user-password", "password", 24, ()),
    ]
    specs += [SecretSpec(f"{c}/totp/{user}", "totp", 20, ()) for user in totp_users]
    if test_users:
        specs.append(SecretSpec(SHARED_TEST_USER_PASSWORD, "password", 20, ()))
    return specs


def ensure_secrets(provider: SecretsProvider, specs: Sequence[SecretSpec]) -> list[str]:
    """Create what is missing, never overwrite (§9.2); validate every value. Returns the paths created now."""
    created = []
    for spec in specs:
        if provider.get(spec.path) is None:
            provider.ensure(spec.path, functools.partial(generate, spec))
            created.append(spec.path)
        validate_secret(spec.path, provider.get(spec.path), spec.kind)
    return created


def secrets_for_service(
    provider: SecretsProvider, specs: Sequence[SecretSpec], service: str, *, hub: bool
) -> dict[str, str]:
    """§9.4: exactly the `DIVE_SECRET_<PATH>` variables of the secrets delivered to `service` (the admin password
    reaches the api of the hub only)."""
    variables = {}
    for spec in specs:
        if service not in spec.services or (service == "api" and spec.path.endswith("/idp-admin-password") and not hub):
            continue
        value = provider.get(spec.path)
        validate_secret(spec.path, value, spec.kind)
        variables[secret_variable(spec.path)] = str(value)
    return variables


def secret_variable(path: str) -> str:
    """§9.1 `env` naming: `fra/app-client-secret` → `DIVE_SECRET_FRA_APP_CLIENT_SECRET`."""
    return "DIVE_SECRET_" + re.sub(r"[/.\-]", "_", path).upper()
