"""Settings of the backend API (identity-api-ui §0.2): `DIVE_API_*` and friends, read once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from dive import catalog
from dive.secrets import LocalKeystore
from dive.service import ServiceSettings
from dive.service.environment import env_flag, env_int

__all__ = ["AUDIENCE", "ApiSettings", "load_api_settings"]

AUDIENCE: Final = "dive-v3-api"
BACKEND_CLIENT: Final = "dive-v3-backend-client"
DEFAULT_UPLOAD_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_PARTNER_TIMEOUT_MS: Final = 3000
DEFAULT_FEDSEARCH_CACHE_TTL_S: Final = 60
DEFAULT_KAS_TIMEOUT_MS: Final = 5000
DEFAULT_AUDIT_RETENTION_DAYS: Final = 90
DEFAULT_ENGINE_THREADS: Final = 2


@dataclass(frozen=True, kw_only=True)
class ApiSettings:
    instance_code: str  # upper case
    own_issuer: str
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    partner_timeout_s: float = DEFAULT_PARTNER_TIMEOUT_MS / 1000
    fedsearch_cache_ttl_s: int = DEFAULT_FEDSEARCH_CACHE_TTL_S
    kas_timeout_s: float = DEFAULT_KAS_TIMEOUT_MS / 1000
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    deny_as_not_found: bool = False
    engine_threads: int = DEFAULT_ENGINE_THREADS
    admin_key: str | None = field(default=None, repr=False)

    def default_clients(self, issuer_code: str) -> tuple[str, ...]:
        """§B.2 step 5: the `azp` values accepted from an issuer that registered none."""
        return (catalog.client_id(issuer_code), BACKEND_CLIENT)


def load_api_settings(service: ServiceSettings) -> ApiSettings:
    """The only reader of the api's variables; the admin key comes from the secrets provider (§0.4)."""
    env = service.environ
    shift = catalog.port_shift(env)
    return ApiSettings(
        instance_code=service.instance_code,
        own_issuer=env.get("DIVE_API_OWN_ISSUER")
        or catalog.issuer(service.instance, host=service.public_host, shift=shift),
        upload_max_bytes=env_int(env, "DIVE_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES),
        partner_timeout_s=env_int(env, "DIVE_FEDSEARCH_PARTNER_TIMEOUT_MS", DEFAULT_PARTNER_TIMEOUT_MS) / 1000,
        fedsearch_cache_ttl_s=env_int(env, "DIVE_FEDSEARCH_CACHE_TTL_S", DEFAULT_FEDSEARCH_CACHE_TTL_S),
        kas_timeout_s=env_int(env, "DIVE_KAS_TIMEOUT_MS", DEFAULT_KAS_TIMEOUT_MS) / 1000,
        audit_retention_days=env_int(env, "DIVE_AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS),
        deny_as_not_found=env_flag(env, "DIVE_API_DENY_AS_NOT_FOUND"),
        engine_threads=env_int(env, "DIVE_API_ENGINE_THREADS", DEFAULT_ENGINE_THREADS),
        admin_key=LocalKeystore(service.home).get(f"{service.instance}/federation-admin-key"),
    )
