"""JSON of the federation and KAS registries (identity-api-ui §B.7; CONSISTENCY #14, #16: trust is declared only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.store.models.registry import FederationSpoke

__all__ = ["kas_json", "spoke_health", "spoke_json"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def spoke_health(spoke: FederationSpoke, now: datetime) -> str:
    """Computed, not stored: online under 2 × the heartbeat interval, degraded under 5 ×, else offline."""
    if spoke.last_heartbeat is None:
        return "offline"
    age = now - spoke.last_heartbeat.astimezone(UTC)
    interval = timedelta(seconds=spoke.heartbeat_interval_s or 30)
    return "online" if age < 2 * interval else "degraded" if age < 5 * interval else "offline"


def spoke_json(spoke: FederationSpoke) -> dict[str, object]:
    return {
        "spokeId": spoke.spoke_id,
        "instanceCode": spoke.code.upper(),
        "name": spoke.name,
        "role": spoke.role,
        "status": spoke.status,
        "apiUrl": spoke.api_url,
        "webUrl": spoke.web_url,
        "idpUrl": spoke.idp_url,
        "issuer": spoke.issuer,
        "jwksUri": spoke.jwks_uri,
        "kasUrl": spoke.kas_url,
        "caFingerprint": spoke.ca_fingerprint,
        "trustLevel": spoke.trust_level,
        "maxClassification": spoke.max_classification,
        "allowedClients": list(spoke.allowed_clients or []),
        "registeredAt": _iso(spoke.registered_at),
        "approvedAt": _iso(spoke.approved_at),
        "approvedBy": spoke.approved_by,
        "suspendedReason": spoke.suspended_reason,
        "revokedReason": spoke.revoked_reason,
        "lastHeartbeat": _iso(spoke.last_heartbeat),
        "heartbeatIntervalS": spoke.heartbeat_interval_s,
        "version": spoke.version,
        "linkStatus": spoke.link_status,
        "linkError": spoke.link_error,
        "health": spoke_health(spoke, datetime.now(UTC)),
    }


def kas_json(entry: KasRegistryEntry, keys: list[KasRegistryKey]) -> dict[str, object]:
    return {
        "kasId": entry.kas_id,
        "instanceCode": entry.instance_code.upper(),
        "kasUrl": entry.url,
        "status": entry.status,
        "publicKeys": [
            {
                "kid": key.kid,
                "alg": key.algorithm,
                "publicKey": key.public_key_pem,
                "fingerprint": key.fingerprint,
                "status": key.status,
            }
            for key in keys
        ],
        "registeredAt": _iso(entry.registered_at),
    }
