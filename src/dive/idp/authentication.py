"""Checking a user's credentials (§A.4, §A.7), shared by the login form and the password grant: brute-force
lockout, argon2 verify with a dummy verify for unknown users, rehash-on-login, TOTP with replay refusal."""

from __future__ import annotations

from dive.domain.clearance import normalize, rank
from dive.idp.bruteforce import LockoutPolicy, is_locked, record_failure
from dive.idp.core import IdpCore
from dive.idp.errors import LoginError
from dive.idp.model import Realm, User
from dive.idp.totp import verify_totp

__all__ = [
    "authenticate_password",
    "has_otp",
    "lockout_policy",
    "must_enrol_otp",
    "record_success",
    "verify_second_factor",
]

INVALID_CREDENTIALS = "Invalid username or password."


def lockout_policy(realm: Realm) -> LockoutPolicy:
    return LockoutPolicy(
        failure_factor=int(realm.setting("failureFactor")),
        wait_increment_s=int(realm.setting("waitIncrementSeconds")),
        max_wait_s=int(realm.setting("maxFailureWaitSeconds")),
        reset_after_s=int(realm.setting("maxDeltaTimeSeconds")),
    )


def authenticate_password(core: IdpCore, realm: Realm, login: str, password: str, *, ip: str | None) -> User:
    """Return the user, or raise LoginError whose `code` is the event error; every failure reads the same."""
    user = core.directory.user_by_login(realm.id, login.strip())
    if user is None:
        core.hasher.verify_dummy(password)
        raise LoginError("user_not_found", INVALID_CREDENTIALS)
    if realm.setting("bruteForceProtected") and is_locked(core.store.lockout(user.id), core.now()):
        raise LoginError("user_temporarily_disabled", INVALID_CREDENTIALS)
    stored = core.directory.password_hash(user.id)
    if stored is None or not core.hasher.verify(stored, password):
        _record_failure(core, realm, user, ip)
        raise LoginError("invalid_user_credentials", INVALID_CREDENTIALS)
    if not user.enabled:
        raise LoginError("user_disabled", INVALID_CREDENTIALS)
    if core.hasher.needs_rehash(stored):
        core.directory.replace_password_hash(user.id, core.hasher.hash(password))
    return user


def verify_second_factor(core: IdpCore, realm: Realm, user: User, code: str, *, ip: str | None) -> None:
    credential = core.directory.otp(user.id)
    if realm.setting("bruteForceProtected") and is_locked(core.store.lockout(user.id), core.now()):
        raise LoginError("user_temporarily_disabled", "Invalid authenticator code.")
    step = None
    if credential is not None:
        step = verify_totp(credential.secret, code.strip(), now=core.now().timestamp(),
                           last_used_step=credential.last_used_step)  # fmt: skip
    if credential is None or step is None or not core.directory.consume_otp_step(credential.id, step):
        _record_failure(core, realm, user, ip)
        raise LoginError("invalid_user_credentials", "Invalid authenticator code.")


def record_success(core: IdpCore, user: User) -> None:
    core.store.clear_lockout(user.id)


def has_otp(core: IdpCore, user: User) -> bool:
    return core.directory.otp(user.id) is not None


def must_enrol_otp(realm: Realm, user: User) -> bool:
    """§A.7: clearance at or above `dive.otpRequiredFromClearance`, or required action CONFIGURE_TOTP."""
    if "CONFIGURE_TOTP" in user.required_actions:
        return True
    threshold = normalize(realm.attribute("dive.otpRequiredFromClearance") or "CONFIDENTIAL", None)
    level = normalize(user.first("clearance"), user.first("countryOfAffiliation"))
    return threshold is not None and level is not None and rank(level) >= rank(threshold)


def _record_failure(core: IdpCore, realm: Realm, user: User, ip: str | None) -> None:
    if realm.setting("bruteForceProtected"):
        state = record_failure(core.store.lockout(user.id), lockout_policy(realm), now=core.now(), ip=ip)
        core.store.save_lockout(user.id, state)
