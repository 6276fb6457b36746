"""The deployment certificate authority under `$DIVE_HOME/pki` (orchestration §1.3).

EC P-256 keys: generating and signing are about a hundred times faster than RSA-2048, which matters when
a test run or a ten-spoke deploy issues dozens of certificates; every TLS stack we talk to accepts them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from filelock import FileLock

from dive.pki._files import ensure_private_dir, write_atomically
from dive.pki.errors import CaInvalidError

__all__ = [
    "CA_VALIDITY",
    "CertificateAuthority",
    "ca_bundle_path",
    "ca_certificate_path",
    "ensure_ca",
    "load_ca",
    "rebuild_ca_bundle",
]

CA_VALIDITY = dt.timedelta(days=3650)
LOCK_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class CertificateAuthority:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    cert_path: Path
    key_path: Path
    bundle_path: Path


def pki_dir(home: Path) -> Path:
    return home / "pki"


def ca_bundle_path(home: Path) -> Path:
    """The trust store every service verifies against: own CA plus partner CAs (`DIVE_CA_BUNDLE` default)."""
    return pki_dir(home) / "bundle.pem"


def ca_certificate_path(home: Path) -> Path:
    return pki_dir(home) / "ca.crt"


def ensure_ca(home: Path) -> CertificateAuthority:
    """Load the deployment CA, creating it on first use; two processes racing here end up with one CA."""
    directory = pki_dir(home)
    ensure_private_dir(home)
    ensure_private_dir(directory)
    with FileLock(directory / ".ca.lock", timeout=LOCK_TIMEOUT_S):
        if not (directory / "ca.crt").exists():
            _create_ca(directory)
            rebuild_ca_bundle(home)
        elif not ca_bundle_path(home).exists():
            rebuild_ca_bundle(home)
    return load_ca(home)


def load_ca(home: Path) -> CertificateAuthority:
    directory = pki_dir(home)
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CaInvalidError(
            f"the deployment CA in {directory} cannot be read ({exc}); restore it or remove {directory} to start over"
        ) from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.public_key() != certificate.public_key():
        raise CaInvalidError(f"{key_path} is not the private key of {cert_path}; restore the pair from a backup")
    return CertificateAuthority(
        certificate=certificate,
        private_key=private_key,
        cert_path=cert_path,
        key_path=key_path,
        bundle_path=ca_bundle_path(home),
    )


def rebuild_ca_bundle(home: Path) -> Path:
    """Write `bundle.pem` = own CA followed by every partner CA in `pki/trusted/*.pem` (CONSISTENCY #19)."""
    directory = pki_dir(home)
    parts = [(directory / "ca.crt").read_bytes()]
    parts += [path.read_bytes() for path in sorted((directory / "trusted").glob("*.pem"))]
    bundle = ca_bundle_path(home)
    write_atomically(bundle, b"".join(part if part.endswith(b"\n") else part + b"\n" for part in parts), mode=0o644)
    return bundle


def _create_ca(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    # A random suffix keeps two deployments' CAs apart in a partner's bundle (same name, different key).
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"DIVE V3 deployment CA {secrets.token_hex(6)}")])
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The certificate is written last and marks completion: after a crash in between, ensure_ca starts over.
    write_atomically(directory / "ca.key", key_pem, mode=0o600)
    write_atomically(directory / "ca.crt", certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
