"""idp-specific series (identity-api-ui §A.11, §D.2), in the app's registry with label `instance_code`."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["IdpMetrics"]

HASH_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)


class IdpMetrics:
    def __init__(self, registry: CollectorRegistry, instance_code: str) -> None:
        self.instance_code = instance_code
        self._events = Counter("dive_idp_events", "Keycloak-style events recorded",
                               ("instance_code", "realm", "event", "idp", "error"), registry=registry)  # fmt: skip
        self._tokens = Counter("dive_idp_tokens_issued", "Tokens issued", ("instance_code", "realm", "kind"),
                               registry=registry)  # fmt: skip
        self._hash = Histogram("dive_idp_password_hash_seconds", "Time of one argon2id hash or verify",
                               ("instance_code",), buckets=HASH_BUCKETS, registry=registry)  # fmt: skip
        self._jwks = Counter("dive_idp_broker_jwks_fetch", "Partner JWKS fetches", ("instance_code",),
                             registry=registry)  # fmt: skip
        self._sessions = Gauge("dive_idp_sessions_active", "SSO sessions not ended", ("instance_code",),
                               registry=registry)  # fmt: skip

    def event(self, realm: str, event_type: str, *, idp: str = "local", error: str = "") -> None:
        """§D.2: `event` is the lower-case §A.9 type, `idp` the partner alias or `local`, `error` empty on success."""
        self._events.labels(self.instance_code, realm, event_type.lower(), idp, error).inc()

    def token(self, realm: str, kind: str) -> None:
        self._tokens.labels(self.instance_code, realm, kind).inc()

    def password_hash(self, seconds: float) -> None:
        self._hash.labels(self.instance_code).observe(seconds)

    def jwks_fetch(self) -> None:
        self._jwks.labels(self.instance_code).inc()

    def count_sessions_with(self, counter: Callable[[], int]) -> None:
        self._sessions.labels(self.instance_code).set_function(counter)
