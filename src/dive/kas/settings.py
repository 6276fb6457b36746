"""KAS settings (spec/ztdf-kas.md §8, §11): `DIVE_KAS_*` read once from the service environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final, Literal

from dive import catalog
from dive.service.environment import env_flag, env_int
from dive.service.errors import SettingsError
from dive.service.settings import ServiceSettings

__all__ = ["KasSettings", "SrtMode", "load_kas_settings"]

SrtMode = Literal["strict", "opentdf"]

DEFAULT_MAX_REQUEST_BYTES: Final = 2 * 1024 * 1024
DEFAULT_MAX_POLICIES: Final = 500
DEFAULT_MAX_KAOS: Final = 500
DEFAULT_MAX_WRAPPED_KEY_BYTES: Final = 1024
DEFAULT_SRT_MAX_AGE_S: Final = 300
DEFAULT_MAX_KIDLESS_ATTEMPTS: Final = 3
DEFAULT_DEK_CACHE_SIZE: Final = 10_000
DEFAULT_DEK_CACHE_TTL_S: Final = 120
DEFAULT_SUBJECT_RATE: Final = 20.0
DEFAULT_SUBJECT_BURST: Final = 50
DEFAULT_IP_RATE: Final = 100.0
DEFAULT_IP_BURST: Final = 200
DEFAULT_AUDIENCE: Final = "dive-v3-kas"


@dataclass(frozen=True, kw_only=True)
class KasSettings:
    kas_id: str  # `<c>-kas`
    instance_code: str  # upper case
    public_base_url: str  # what clients call, `https://host:port`; DPoP `htu` is built from it
    own_issuer: str
    audience: str = DEFAULT_AUDIENCE
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_policies_per_request: int = DEFAULT_MAX_POLICIES
    max_kaos_per_request: int = DEFAULT_MAX_KAOS
    max_wrapped_key_bytes: int = DEFAULT_MAX_WRAPPED_KEY_BYTES
    srt_max_age_s: int = DEFAULT_SRT_MAX_AGE_S
    srt_verification: SrtMode = "strict"
    max_kidless_attempts: int = DEFAULT_MAX_KIDLESS_ATTEMPTS
    crypto_threads: int = 2
    dek_cache_size: int = DEFAULT_DEK_CACHE_SIZE
    dek_cache_ttl_s: int = DEFAULT_DEK_CACHE_TTL_S
    allow_unlabelled_policies: bool = False
    accepted_namespaces: tuple[str, ...] = ("https://dive.nato.int",)
    subject_rate: float = DEFAULT_SUBJECT_RATE
    subject_burst: int = DEFAULT_SUBJECT_BURST
    ip_rate: float = DEFAULT_IP_RATE
    ip_burst: int = DEFAULT_IP_BURST


def load_kas_settings(service: ServiceSettings) -> KasSettings:
    """The only reader of `DIVE_KAS_*`; errors name the variable and how to fix it."""
    env = service.environ
    allow_unlabelled = env_flag(env, "DIVE_KAS_ALLOW_UNLABELLED_POLICIES")
    if allow_unlabelled and service.env == "production":
        raise SettingsError("DIVE_KAS_ALLOW_UNLABELLED_POLICIES is refused in production; unset it")
    mode = env.get("DIVE_KAS_SRT_VERIFICATION", "strict")
    if mode not in ("strict", "opentdf"):
        raise SettingsError(f"DIVE_KAS_SRT_VERIFICATION={mode!r} is not strict or opentdf")
    shift = catalog.port_shift(env)
    namespaces = env.get("DIVE_KAS_ACCEPTED_NAMESPACES", "")
    return KasSettings(
        kas_id=catalog.kas_id(service.instance),
        instance_code=service.instance_code,
        public_base_url=env.get("DIVE_KAS_PUBLIC_URL", service.public_url).rstrip("/"),
        own_issuer=env.get("DIVE_KAS_OWN_ISSUER")
        or catalog.issuer(service.instance, host=service.public_host, shift=shift),
        max_request_bytes=env_int(env, "DIVE_KAS_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES),
        max_policies_per_request=env_int(env, "DIVE_KAS_MAX_POLICIES_PER_REQUEST", DEFAULT_MAX_POLICIES),
        max_kaos_per_request=env_int(env, "DIVE_KAS_MAX_KAOS_PER_REQUEST", DEFAULT_MAX_KAOS),
        srt_max_age_s=env_int(env, "DIVE_KAS_SRT_MAX_AGE_S", DEFAULT_SRT_MAX_AGE_S),
        srt_verification=mode,  # type: ignore[arg-type]
        max_kidless_attempts=env_int(env, "DIVE_KAS_MAX_KIDLESS_ATTEMPTS", DEFAULT_MAX_KIDLESS_ATTEMPTS),
        crypto_threads=env_int(env, "DIVE_KAS_CRYPTO_THREADS", os.cpu_count() or 2),
        dek_cache_size=env_int(env, "DIVE_KAS_DEK_CACHE_SIZE", DEFAULT_DEK_CACHE_SIZE, minimum=0),
        dek_cache_ttl_s=env_int(env, "DIVE_KAS_DEK_CACHE_TTL_S", DEFAULT_DEK_CACHE_TTL_S),
        allow_unlabelled_policies=allow_unlabelled,
        accepted_namespaces=("https://dive.nato.int", *(n.strip() for n in namespaces.split(",") if n.strip())),
        subject_rate=float(env_int(env, "DIVE_KAS_SUBJECT_RATE", int(DEFAULT_SUBJECT_RATE))),
        subject_burst=env_int(env, "DIVE_KAS_SUBJECT_BURST", DEFAULT_SUBJECT_BURST),
        ip_rate=float(env_int(env, "DIVE_KAS_IP_RATE", int(DEFAULT_IP_RATE))),
        ip_burst=env_int(env, "DIVE_KAS_IP_BURST", DEFAULT_IP_BURST),
    )
