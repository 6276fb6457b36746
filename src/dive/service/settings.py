"""Settings common to every service process (identity-api-ui §0.2, orchestration §1.1 and §9.4).

`load_service_settings` is the only reader of the process environment for services. Component
settings (`DIVE_KAS_*`, `DIVE_API_*`, …) are read by each component from `ServiceSettings.environ`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from dive import catalog
from dive.pki.ca import ca_bundle_path
from dive.pki.certificates import service_certificate_paths
from dive.service.errors import SettingsError
from dive.store.engine import resolve_database_url
from dive.store.errors import StoreConfigError

__all__ = ["Environment", "ServiceSettings", "load_service_settings"]

Environment = Literal["development", "test", "production"]

DEFAULT_HOME: Final = "./.dive"
DEFAULT_BIND: Final = "127.0.0.1"
DEFAULT_PUBLIC_HOST: Final = "localhost"
DEFAULT_LOG_LEVEL: Final = "INFO"
# The CLI's `local` is rendered as `development` for services (orchestration §1.1); accept it here too.
_ENVIRONMENTS: Final[Mapping[str, Environment]] = {
    "development": "development",
    "local": "development",
    "test": "test",
    "production": "production",
}


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    service: str
    instance: str  # lower-case code, as used in names (`fra`)
    env: Environment
    home: Path
    bind: str
    port: int
    public_host: str
    database_url: str = field(repr=False)  # may carry a password
    redis_url: str | None = field(repr=False)
    redis_prefix: str
    ca_bundle: Path
    tls_cert: Path
    tls_key: Path
    log_level: str
    environ: Mapping[str, str] = field(repr=False, compare=False, hash=False, default_factory=dict)

    @property
    def instance_code(self) -> str:
        """The upper-case code used in JSON, policy input and metric labels (CONSISTENCY #10)."""
        return self.instance.upper()

    @property
    def public_url(self) -> str:
        return f"https://{self.public_host}:{self.port}"


def load_service_settings(
    service: str, instance: str, environ: Mapping[str, str], *, port: int | None = None
) -> ServiceSettings:
    """Build and validate the settings of `service` for `instance`; errors name the variable to fix."""
    if service not in catalog.SERVICES:
        raise SettingsError(f"unknown service {service!r}; choose one of {', '.join(catalog.SERVICES)}")
    code = _normalize_code(instance)
    home = Path(environ.get("DIVE_HOME") or DEFAULT_HOME).expanduser().absolute()
    env = _environment(environ)
    tls_cert, tls_key = service_certificate_paths(home, code, service)
    return ServiceSettings(
        service=service,
        instance=code,
        env=env,
        home=home,
        bind=environ.get("DIVE_BIND") or DEFAULT_BIND,
        port=port if port is not None else _port(code, service, environ),
        public_host=environ.get("DIVE_PUBLIC_HOST") or DEFAULT_PUBLIC_HOST,
        database_url=_database_url(environ, home, code),
        redis_url=_redis_url(environ, env),
        redis_prefix=environ.get("DIVE_REDIS_PREFIX") or f"dive:{code}:",
        ca_bundle=_path(environ, "DIVE_CA_BUNDLE", ca_bundle_path(home)),
        tls_cert=_path(environ, "DIVE_TLS_CERT", tls_cert),
        tls_key=_path(environ, "DIVE_TLS_KEY", tls_key),
        log_level=_log_level(environ),
        environ=MappingProxyType({k: v for k, v in environ.items() if k.startswith("DIVE_")}),
    )


def _normalize_code(instance: str) -> str:
    try:
        return catalog.normalize_code(instance)
    except catalog.CatalogError as exc:
        raise SettingsError(str(exc)) from exc


def _environment(environ: Mapping[str, str]) -> Environment:
    raw = environ.get("DIVE_ENV") or "development"
    if raw.lower() not in _ENVIRONMENTS:
        raise SettingsError(f"DIVE_ENV={raw!r} is not one of development, test, production")
    return _ENVIRONMENTS[raw.lower()]


def _port(code: str, service: str, environ: Mapping[str, str]) -> int:
    raw = environ.get("DIVE_PORT")
    if raw:
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise SettingsError(f"DIVE_PORT={raw!r} is not a TCP port; unset it to use the catalog port")
        return int(raw)
    try:
        return catalog.port(code, service, shift=catalog.port_shift(environ))
    except catalog.CatalogError as exc:
        raise SettingsError(f"no port for {service} of {code.upper()} ({exc}); set DIVE_PORT") from exc


def _database_url(environ: Mapping[str, str], home: Path, code: str) -> str:
    try:
        return resolve_database_url(environ, home, code)
    except StoreConfigError as exc:
        raise SettingsError(str(exc)) from exc


def _redis_url(environ: Mapping[str, str], env: Environment) -> str | None:
    url = environ.get("DIVE_REDIS_URL") or None
    if url is None and env == "production":
        raise SettingsError("DIVE_REDIS_URL is required in production; in-process caches are refused")
    return url


def _path(environ: Mapping[str, str], name: str, default: Path) -> Path:
    raw = environ.get(name)
    return Path(raw).expanduser().absolute() if raw else default


def _log_level(environ: Mapping[str, str]) -> str:
    raw = (environ.get("DIVE_LOG_LEVEL") or DEFAULT_LOG_LEVEL).upper()
    if not isinstance(logging.getLevelName(raw), int):
        raise SettingsError(f"DIVE_LOG_LEVEL={raw!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
    return raw
