"""Typed reads of single settings variables, shared by the component settings loaders; errors name the variable."""

from __future__ import annotations

from collections.abc import Mapping

from dive.service.errors import SettingsError

__all__ = ["env_flag", "env_int", "env_positive_float"]


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise SettingsError(f"{name}={raw!r} is not an integer ≥ {minimum}; unset it to use {default}")
    return int(raw)


def env_positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:  # also refuses NaN
        raise SettingsError(f"{name}={raw!r} is not a positive number; unset it to use {default:g}")
    return value


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").lower()
    if raw not in ("", "0", "1", "true", "false"):
        raise SettingsError(f"{name}={raw!r} is not true or false")
    return raw in ("1", "true")
