"""A hub on another host (orchestration Amendment A1, §1.3, §8.2, §8.4 C6; CONSISTENCY #13).

A remote spoke holds no hub admin key: it enrols once with a single-use enrolment token, then speaks to the hub with
the spoke token the first `register` returns. Each side trusts the other's CA through `pki/trusted/<c>.pem`. This
module holds the settings, the input checks and the partner descriptions built from what the other side reports;
it does no network I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from dive import catalog
from dive.federation.errors import FederationError, RegistrationError
from dive.federation.partners import Partner
from dive.pki import rebuild_ca_bundle

__all__ = [
    "ENROLMENT_TOKEN_FILE_ENV",
    "HUB_CA_FILE_ENV",
    "HUB_URL_ENV",
    "EnrolmentRefusedError",
    "RemoteHub",
    "enrolment_refusal",
    "hub_partner",
    "normalize_hub_url",
    "parse_ttl",
    "read_ca_pem",
    "read_enrolment_token",
    "record_partner",
    "remote_hub_of",
    "trust_partner_ca",
    "trusted_ca_path",
    "validate_ca_pem",
]

HUB_URL_ENV: Final = "DIVE_HUB_URL"
HUB_CA_FILE_ENV: Final = "DIVE_HUB_CA_FILE"
ENROLMENT_TOKEN_FILE_ENV: Final = "DIVE_ENROLMENT_TOKEN_FILE"
_TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{20,200}")
_TTL_PATTERN: Final = re.compile(r"(\d+)([smhd]?)")
_TTL_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_TTL_S: Final = 30 * 86400


class EnrolmentRefusedError(RegistrationError):
    """The hub refused the enrolment token (unknown, used, expired, revoked, or issued for another code)."""

    code = "fed_enrolment_refused"


@dataclass(frozen=True)
class RemoteHub:
    """`--hub-url`, `--hub-ca` and `--enrolment-token-file` as the run sees them (through its environment)."""

    api_url: str
    ca_file: Path | None
    token_file: Path | None


def remote_hub_of(environ: Mapping[str, str], home: Path) -> RemoteHub | None:
    """The remote hub of this run, or None when the hub is local: no hub URL, or the hub is deployed in this home."""
    url = environ.get(HUB_URL_ENV)
    if not url or (home / "instances" / catalog.HUB).is_dir():
        return None
    ca, token = environ.get(HUB_CA_FILE_ENV), environ.get(ENROLMENT_TOKEN_FILE_ENV)
    return RemoteHub(normalize_hub_url(url), Path(ca) if ca else None, Path(token) if token else None)


def normalize_hub_url(raw: str) -> str:
    """`https://host:port` (a trailing `/` or `/api` is dropped); ValueError naming what is wrong."""
    parts = urlsplit(raw.strip())
    if parts.scheme != "https":
        raise ValueError(f"--hub-url {raw!r}: use the hub api's https:// URL, e.g. https://hub.example:4000")
    if not parts.hostname:
        raise ValueError(f"--hub-url {raw!r} has no host name")
    if parts.path.rstrip("/") not in ("", "/api") or parts.query or parts.fragment:
        raise ValueError(f"--hub-url {raw!r}: give the api base URL only, without a path or query")
    return f"https://{parts.netloc}"


def parse_ttl(raw: str) -> int:
    """`--ttl`: seconds, or a number with unit s, m, h or d (`72h`); between 1 s and 30 days."""
    match = _TTL_PATTERN.fullmatch(raw.strip().lower())
    if match is None:
        raise ValueError(f"--ttl {raw!r}: give a duration such as 72h, 30m, 2d or 3600")
    seconds = int(match.group(1)) * _TTL_UNITS[match.group(2)]
    if not 1 <= seconds <= _MAX_TTL_S:
        raise ValueError(f"--ttl {raw!r}: the lifetime must be between 1 second and 30 days")
    return seconds


def read_enrolment_token(path: Path) -> str:
    """The token in `path` (one line, as `dive spoke authorize --out` writes it); ValueError naming the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValueError(f"--enrolment-token-file {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--enrolment-token-file {path}: cannot be read ({exc})") from exc
    token = text.strip()
    if not token:
        raise ValueError(f"--enrolment-token-file {path} is empty")
    if not _TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"--enrolment-token-file {path} does not hold one enrolment token (dive spoke authorize)")
    return token


def read_ca_pem(path: Path) -> str:
    """The CA certificates in `path` as PEM text; ValueError unless it holds at least one CA certificate."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"--hub-ca {path}: cannot be read ({exc.strerror or exc})") from exc
    return validate_ca_pem(data.decode("ascii", errors="replace"), f"--hub-ca {path}")


def validate_ca_pem(pem: str, source: str) -> str:
    """`pem` unchanged if it holds only PEM certificates, one of them a CA; a bad file in `pki/trusted/` would
    break every service's trust store, so nothing else is ever written there."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except ValueError as exc:
        raise ValueError(f"{source} holds no readable PEM certificate") from exc
    if not any(_is_ca(certificate) for certificate in certificates):
        raise ValueError(f"{source} holds no CA certificate (give the partner's pki/bundle.pem or ca.crt)")
    return pem


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        return False
    return isinstance(constraints, x509.BasicConstraints) and constraints.ca


def trusted_ca_path(home: Path, code: str) -> Path:
    """`pki/trusted/<c>.pem`: the CA of a partner on another host (§1.3)."""
    return home / "pki" / "trusted" / f"{code.lower()}.pem"


def trust_partner_ca(home: Path, code: str, pem: str) -> bool:
    """Write the partner's CA to `pki/trusted/<c>.pem` and rebuild `bundle.pem` (services re-read it, §9.4).
    Returns False when the same CA was already trusted, so a redeploy changes nothing."""
    path = trusted_ca_path(home, code)
    if path.exists() and path.read_text(encoding="ascii", errors="replace") == pem:
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".pem.tmp")
    temporary.write_text(pem, encoding="ascii")
    temporary.chmod(0o644)
    temporary.replace(path)
    rebuild_ca_bundle(home)
    return True


def _partner(code: str, issuer: str, api_url: str, kas_url: str) -> Partner:
    realm_path = f"/realms/{catalog.realm(code)}"
    if not issuer.endswith(realm_path):
        raise FederationError(f"the issuer {issuer!r} of {code.upper()} does not end with {realm_path}")
    kas = kas_url.rstrip("/")
    return Partner(code=code, idp_url=issuer.removesuffix(realm_path), api_url=api_url.rstrip("/"), kas_url=kas)


def hub_partner(metadata: Mapping[str, Any]) -> Partner:
    """The hub as its `GET /api/federation/metadata` describes it (its URLs, not this host's catalog)."""
    try:
        return _partner(catalog.HUB, str(metadata["issuer"]), str(metadata["apiUrl"]), str(metadata["kasUrl"]))
    except KeyError as exc:
        raise RegistrationError(f"the hub metadata lacks {exc}; is the hub api up to date?") from exc


def record_partner(code: str, issuer: str, api_url: str, kas_url: str) -> Partner:
    """A remote spoke as its registry record describes it (the URLs it reported at registration)."""
    return _partner(catalog.normalize_code(code), issuer, api_url, kas_url)


def enrolment_refusal(status: int, body: Mapping[str, Any] | None) -> EnrolmentRefusedError | None:
    """The hub's 401/403 answer to an enrolment token as a specific error, or None for any other answer."""
    if status not in (401, 403) or not isinstance(body, Mapping):
        return None
    details = body.get("details") if isinstance(body.get("details"), Mapping) else {}
    reason = str(details.get("reason") or body.get("error") or "refused")
    message = str(body.get("message") or "the hub refused the enrolment token")
    return EnrolmentRefusedError(
        f"the hub refused the enrolment token: {message} ({reason})",
        {"status": status, "reason": reason},
        remediation="ask the hub operator for a new token: dive spoke authorize CODE --out FILE",
    )
