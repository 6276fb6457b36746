"""Secrets providers (spec/orchestration.md §9): the interface and the default local keystore."""

from __future__ import annotations

from dive.secrets.errors import (
    SecretExistsError,
    SecretInsecureError,
    SecretPathInvalidError,
    SecretsError,
    SecretStoreError,
)
from dive.secrets.local import LocalKeystore
from dive.secrets.provider import SecretMeta, SecretsProvider, check_path

__all__ = [
    "LocalKeystore",
    "SecretExistsError",
    "SecretInsecureError",
    "SecretMeta",
    "SecretPathInvalidError",
    "SecretStoreError",
    "SecretsError",
    "SecretsProvider",
    "check_path",
]
