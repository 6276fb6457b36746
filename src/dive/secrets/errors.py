"""Errors of the secrets providers (spec/orchestration.md §9.1).

SecretsError                 (base; `code` is stable snake_case)
├─ SecretPathInvalidError    secret_path_invalid: not lower-case segments `[a-z0-9._-]+` joined by `/`
├─ SecretExistsError         secret_exists: `put` without `overwrite` on an existing secret
├─ SecretInsecureError       secret_insecure: a secret file or directory readable by group or others
└─ SecretStoreError          secret_store_unavailable: the keystore cannot be read or written
"""

from __future__ import annotations

__all__ = ["SecretExistsError", "SecretInsecureError", "SecretPathInvalidError", "SecretStoreError", "SecretsError"]


class SecretsError(Exception):
    code = "secrets_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SecretPathInvalidError(SecretsError):
    code = "secret_path_invalid"


class SecretExistsError(SecretsError):
    code = "secret_exists"


class SecretInsecureError(SecretsError):
    code = "secret_insecure"


class SecretStoreError(SecretsError):
    code = "secret_store_unavailable"
