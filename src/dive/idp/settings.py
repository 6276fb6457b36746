"""Settings of the idp (identity-api-ui §0.2, §A.4, Amendment 2; CONSISTENCY #27). Read from
`ServiceSettings.environ` only; secrets arrive as `DIVE_SECRET_<PATH>` (orchestration §9.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dive.idp.errors import IdpError
from dive.idp.passwords import DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM, DEFAULT_TIME_COST, Argon2Params
from dive.service.settings import ServiceSettings

__all__ = ["IdpSettings", "load_idp_settings", "secret_variable"]

ADMIN_TOKEN_LIFESPAN_S = 300


@dataclass(frozen=True, kw_only=True)
class IdpSettings:
    service: ServiceSettings
    argon2: Argon2Params
    data_protection_key: str = field(repr=False)
    admin_password: str | None = field(repr=False)
    admin_token_lifespan_s: int = ADMIN_TOKEN_LIFESPAN_S
    propagation_delay_s: float = 0.0

    @property
    def base_url(self) -> str:
        return self.service.public_url

    def issuer(self, realm: str) -> str:
        return f"{self.base_url}/realms/{realm}"


def secret_variable(path: str) -> str:
    """orchestration §9.1 `env` provider naming: `<c>/data-protection-key` → `DIVE_SECRET_<C>_DATA_PROTECTION_KEY`."""
    return "DIVE_SECRET_" + "".join(ch if ch.isalnum() else "_" for ch in path).upper()


def load_idp_settings(service: ServiceSettings) -> IdpSettings:
    environ = service.environ
    code = service.instance
    protection = environ.get(secret_variable(f"{code}/data-protection-key"))
    if not protection:
        raise IdpError(
            "settings_invalid",
            f"{secret_variable(f'{code}/data-protection-key')} is not set; run `dive secrets load --instance {code}`",
        )
    return IdpSettings(
        service=service,
        argon2=Argon2Params(
            time_cost=_positive_int(environ, "DIVE_IDP_ARGON2_TIME_COST", DEFAULT_TIME_COST),
            memory_kib=_positive_int(environ, "DIVE_IDP_ARGON2_MEMORY_KIB", DEFAULT_MEMORY_KIB),
            parallelism=_positive_int(environ, "DIVE_IDP_ARGON2_PARALLELISM", DEFAULT_PARALLELISM),
        ),
        data_protection_key=protection,
        admin_password=environ.get(secret_variable(f"{code}/idp-admin-password")) or None,
        admin_token_lifespan_s=_positive_int(environ, "DIVE_IDP_ADMIN_TOKEN_LIFESPAN_S", ADMIN_TOKEN_LIFESPAN_S),
        propagation_delay_s=_propagation_delay(environ, service),
    )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise IdpError("settings_invalid", f"{name}={raw!r} is not a positive integer; unset it for {default}")
    return int(raw)


def _propagation_delay(environ: Mapping[str, str], service: ServiceSettings) -> float:
    raw = environ.get("DIVE_TEST_IDP_PROPAGATION_DELAY_S")
    if not raw:
        return 0.0
    if service.env == "production":  # CONSISTENCY #27: refuse to start
        raise IdpError(
            "settings_invalid", "DIVE_TEST_IDP_PROPAGATION_DELAY_S is a test hook and is refused in production"
        )
    if environ.get("DIVE_TEST_HOOKS") != "1":
        return 0.0
    try:
        delay = float(raw)
    except ValueError as exc:
        raise IdpError("settings_invalid", f"DIVE_TEST_IDP_PROPAGATION_DELAY_S={raw!r} is not a number") from exc
    if delay < 0:
        raise IdpError("settings_invalid", f"DIVE_TEST_IDP_PROPAGATION_DELAY_S={raw!r} is negative")
    return delay
