"""Settings of the `pdp` service beyond the common ones (read from `ServiceSettings.environ` only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from dive import catalog
from dive.policy.engine import DECISION_PATH
from dive.policy.registry_feed import REGISTRY_POLL_S
from dive.service.environment import env_int, env_positive_float
from dive.service.errors import SettingsError
from dive.service.settings import ServiceSettings

__all__ = ["DEFAULT_MAX_BODY_BYTES", "PdpSettings", "load_pdp_settings"]

DEFAULT_ENGINE_THREADS: Final = 2  # one per core of the reference machine
DEFAULT_MAX_BODY_BYTES: Final = 8 * 1024 * 1024  # policy inputs may carry large label lists; garbage is cheap to deny


@dataclass(frozen=True, kw_only=True)
class PdpSettings:
    issuer: str  # the own realm's issuer, always a trusted issuer of this instance
    authzen_path: str  # the data path AuthZEN evaluations query
    extra_policy_dir: Path | None  # more Rego modules loaded beside `dive.*` (a second package)
    registry_poll_s: float
    max_body_bytes: int
    engine_threads: int  # threads evaluating policy in parallel (regopy releases the GIL)


def load_pdp_settings(settings: ServiceSettings) -> PdpSettings:
    environ = settings.environ
    extra = environ.get("DIVE_PDP_EXTRA_POLICY_DIR")
    extra_dir = Path(extra).expanduser().absolute() if extra else None
    if extra_dir is not None and not extra_dir.is_dir():
        raise SettingsError(f"DIVE_PDP_EXTRA_POLICY_DIR={extra!r} is not a directory; create it or unset it")
    return PdpSettings(
        issuer=environ.get("DIVE_ISSUER") or _catalog_issuer(settings),
        authzen_path=(environ.get("DIVE_PDP_AUTHZEN_PATH") or DECISION_PATH).strip("/"),
        extra_policy_dir=extra_dir,
        registry_poll_s=env_positive_float(environ, "DIVE_REGISTRY_POLL_S", REGISTRY_POLL_S),
        max_body_bytes=env_int(environ, "DIVE_PDP_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        engine_threads=env_int(environ, "DIVE_PDP_ENGINE_THREADS", DEFAULT_ENGINE_THREADS),
    )


def _catalog_issuer(settings: ServiceSettings) -> str:
    try:
        return catalog.issuer(settings.instance, host=settings.public_host, shift=catalog.port_shift(settings.environ))
    except catalog.CatalogError as exc:
        raise SettingsError(f"cannot derive the issuer of {settings.instance_code} ({exc}); set DIVE_ISSUER") from exc
