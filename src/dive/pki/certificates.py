"""Service certificates issued by the deployment CA: `instances/<c>/certs/<svc>.crt|.key` (orchestration §1.3)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from filelock import FileLock

from dive.pki._files import write_atomically
from dive.pki.ca import LOCK_TIMEOUT_S, CertificateAuthority, ensure_ca
from dive.pki.errors import CertificateInvalidError

__all__ = [
    "LEAF_VALIDITY",
    "RENEW_BEFORE",
    "certificate_hosts",
    "certificate_not_after",
    "ensure_service_certificate",
    "issue_certificate",
    "service_certificate_paths",
]

LEAF_VALIDITY = dt.timedelta(days=397)
RENEW_BEFORE = dt.timedelta(days=30)
ALWAYS_HOSTS = ("localhost", "127.0.0.1", "::1")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def service_certificate_paths(home: Path, instance: str, service: str) -> tuple[Path, Path]:
    certs = home / "instances" / instance.lower() / "certs"
    return certs / f"{service}.crt", certs / f"{service}.key"


def issue_certificate(
    ca: CertificateAuthority, *, common_name: str, hosts: Sequence[str], cert_path: Path, key_path: Path
) -> x509.Certificate:
    """Issue a TLS server certificate for `localhost`, 127.0.0.1, ::1 and `hosts`; the key is written 0600."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + LEAF_VALIDITY, ca.certificate.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(_general_names([*ALWAYS_HOSTS, *hosts])), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomically(key_path, key_pem, mode=0o600)
    write_atomically(cert_path, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return certificate


def ensure_service_certificate(home: Path, instance: str, service: str, public_host: str) -> tuple[Path, Path]:
    """Return the service's certificate and key, issuing them unless a valid pair for `public_host` exists."""
    ca = ensure_ca(home)
    cert_path, key_path = service_certificate_paths(home, instance, service)
    cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with FileLock(cert_path.parent / f".{service}.lock", timeout=LOCK_TIMEOUT_S):
        if not _is_reusable(ca, cert_path, key_path, public_host):
            issue_certificate(
                ca,
                common_name=f"{service}.{instance.lower()}.dive",
                hosts=[public_host],
                cert_path=cert_path,
                key_path=key_path,
            )
    return cert_path, key_path


def certificate_not_after(path: Path) -> dt.datetime:
    return _load_certificate(path).not_valid_after_utc


def certificate_hosts(certificate: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses (as text) in the certificate's subjectAltName."""
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*names.get_values_for_type(x509.DNSName), *(str(ip) for ip in names.get_values_for_type(x509.IPAddress))}


def _is_reusable(ca: CertificateAuthority, cert_path: Path, key_path: Path, public_host: str) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        certificate = _load_certificate(cert_path)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        certificate.verify_directly_issued_by(ca.certificate)
        hosts = certificate_hosts(certificate)
    except (CertificateInvalidError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False  # unreadable, or signed by an earlier CA: issue a fresh pair
    fresh = certificate.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
    return fresh and key.public_key() == certificate.public_key() and _host_text(public_host) in hosts


def _load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateInvalidError(f"{path} is not a readable PEM certificate ({exc})") from exc


def _general_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(_host_text(host) for host in hosts):
        ip = _parse_ip(host)
        names.append(x509.IPAddress(ip) if ip is not None else x509.DNSName(host))
    return names


def _host_text(host: str) -> str:
    ip = _parse_ip(host)
    return str(ip) if ip is not None else host.lower()


def _parse_ip(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
