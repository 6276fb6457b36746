"""Password hashing (argon2id, spec identity-api-ui §A.4 + Amendment 6) and the realm password policy.

Defaults meet OWASP's argon2id minimum (t=5, m=7168 KiB, p=1). Hashes are PHC strings, so changed
parameters apply through rehash-on-login. Passwords never appear in a message or a log line.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dive.idp.errors import AdminApiError

__all__ = [
    "DEFAULT_MEMORY_KIB",
    "DEFAULT_PARALLELISM",
    "DEFAULT_TIME_COST",
    "Argon2Params",
    "PasswordHasher",
    "PolicyViolation",
    "check_password_policy",
]

DEFAULT_TIME_COST = 5
DEFAULT_MEMORY_KIB = 7168
DEFAULT_PARALLELISM = 1
HASH_LENGTH = 32
SALT_LENGTH = 16
MIN_LENGTH = 12
MAX_LENGTH = 128
HISTORY = 5
_SPECIAL = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True, kw_only=True)
class Argon2Params:
    time_cost: int = DEFAULT_TIME_COST
    memory_kib: int = DEFAULT_MEMORY_KIB
    parallelism: int = DEFAULT_PARALLELISM


class PasswordHasher:
    """argon2id with bounded concurrency (argon2 releases the GIL; at most `max_concurrent` hashes run at once)."""

    def __init__(
        self, params: Argon2Params, *, max_concurrent: int = 4, observe: Callable[[float], None] | None = None
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._observe = observe
        self._dummy_hash = self._argon2.hash("dummy password for unknown users")

    def hash(self, password: str) -> str:
        with self._slots, self._timed():
            return self._argon2.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        with self._slots, self._timed():
            try:
                return self._argon2.verify(stored_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    @contextmanager
    def _timed(self) -> Iterator[None]:
        begin = time.perf_counter()
        try:
            yield
        finally:
            if self._observe is not None:
                self._observe(time.perf_counter() - begin)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._argon2.check_needs_rehash(stored_hash)

    def verify_dummy(self, password: str) -> None:
        """Spend one verify for an unknown user, so response time does not reveal which usernames exist."""
        self.verify(self._dummy_hash, password)


@dataclass(frozen=True)
class PolicyViolation:
    message_key: str
    description: str

    def as_admin_error(self) -> AdminApiError:
        return AdminApiError(
            400,
            {"error": self.message_key, "error_description": self.description},
            code="password_policy",
        )


def check_password_policy(
    password: str,
    *,
    username: str,
    email: str | None,
    previous_hashes: Sequence[str] = (),
    hasher: PasswordHasher | None = None,
) -> PolicyViolation | None:
    """Evaluate the realm policy of §A.1; returns the first violation with Keycloak's message key."""
    lowered = password.lower()
    checks = (
        (len(password) < MIN_LENGTH, "MinLength", f"minimum length {MIN_LENGTH}."),
        (len(password) > MAX_LENGTH, "MaxLength", f"maximum length {MAX_LENGTH}."),
        (not re.search("[A-Z]", password), "MinUpperCaseChars", "must contain at least 1 upper case characters."),
        (not re.search("[a-z]", password), "MinLowerCaseChars", "must contain at least 1 lower case characters."),
        (not re.search("[0-9]", password), "MinDigits", "must contain at least 1 numerical digits."),
        (not _SPECIAL.search(password), "MinSpecialChars", "must contain at least 1 special characters."),
        (lowered == username.lower(), "NotUsername", "must not be equal to the username."),
        (bool(email) and lowered == (email or "").lower(), "NotEmail", "must not be equal to the email."),
    )
    for failed, key, text in checks:
        if failed:
            return PolicyViolation(f"invalidPassword{key}Message", f"Invalid password: {text}")
    if hasher is not None and any(hasher.verify(old, password) for old in previous_hashes[:HISTORY]):
        return PolicyViolation(
            "invalidPasswordHistoryMessage", f"Invalid password: must not be equal to any of last {HISTORY} passwords."
        )
    return None
