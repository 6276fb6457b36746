"""Service certificates: SANs, verification against the bundle, 0600 keys, reuse and re-issue."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from dive.pki import (
    certificate_hosts,
    ensure_ca,
    ensure_service_certificate,
    issue_certificate,
    service_certificate_paths,
)


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _verify(bundle: Path, leaf: x509.Certificate, name: x509.GeneralName) -> None:
    store = Store(x509.load_pem_x509_certificates(bundle.read_bytes()))
    verifier = PolicyBuilder().store(store).build_server_verifier(name)  # type: ignore[arg-type]
    verifier.verify(leaf, [])


def test_service_certificate_covers_loopback_and_the_public_host(dive_home: Path) -> None:
    cert_path, key_path = ensure_service_certificate(dive_home, "FRA", "api", "fra.example")
    assert (cert_path, key_path) == service_certificate_paths(dive_home, "fra", "api")
    assert certificate_hosts(_load(cert_path)) == {"localhost", "127.0.0.1", "::1", "fra.example"}
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "name",
    [
        x509.DNSName("localhost"),
        x509.DNSName("fra.example"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ],
)
def test_service_certificate_verifies_against_the_bundle(dive_home: Path, name: x509.GeneralName) -> None:
    cert_path, _ = ensure_service_certificate(dive_home, "fra", "api", "fra.example")
    _verify(dive_home / "pki" / "bundle.pem", _load(cert_path), name)


def test_certificate_does_not_verify_for_other_hosts_or_against_another_ca(tmp_path: Path) -> None:
    cert_path, _ = ensure_service_certificate(tmp_path / "a", "fra", "api", "fra.example")
    with pytest.raises(VerificationError):
        _verify(tmp_path / "a" / "pki" / "bundle.pem", _load(cert_path), x509.DNSName("deu.example"))
    ensure_ca(tmp_path / "b")
    with pytest.raises(VerificationError):
        _verify(tmp_path / "b" / "pki" / "bundle.pem", _load(cert_path), x509.DNSName("localhost"))


def test_key_belongs_to_the_certificate(dive_home: Path) -> None:
    cert_path, key_path = ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == _load(cert_path).public_key()


def test_valid_certificate_is_reused(dive_home: Path) -> None:
    cert_path, _ = ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    first = _load(cert_path)
    ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    assert _load(cert_path) == first


def test_changed_public_host_reissues(dive_home: Path) -> None:
    cert_path, _ = ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    ensure_service_certificate(dive_home, "usa", "kas", "hub.example")
    assert "hub.example" in certificate_hosts(_load(cert_path))


def test_certificate_from_a_replaced_ca_is_reissued(dive_home: Path) -> None:
    cert_path, _ = ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    for name in ("ca.crt", "ca.key", "bundle.pem"):
        (dive_home / "pki" / name).unlink()
    ensure_service_certificate(dive_home, "usa", "kas", "localhost")
    _verify(dive_home / "pki" / "bundle.pem", _load(cert_path), x509.DNSName("localhost"))


def test_corrupt_certificate_is_reissued(dive_home: Path) -> None:
    cert_path, _ = ensure_service_certificate(dive_home, "usa", "web", "localhost")
    cert_path.write_text("not a certificate")
    ensure_service_certificate(dive_home, "usa", "web", "localhost")
    assert "localhost" in certificate_hosts(_load(cert_path))


def test_issue_certificate_accepts_ip_hosts_and_deduplicates(dive_home: Path) -> None:
    ca = ensure_ca(dive_home)
    certificate = issue_certificate(
        ca,
        common_name="probe",
        hosts=["10.1.2.3", "[::1]", "LOCALHOST", "Node.Example"],
        cert_path=dive_home / "probe.crt",
        key_path=dive_home / "probe.key",
    )
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert len(list(names)) == 5
    assert certificate_hosts(certificate) == {"localhost", "127.0.0.1", "::1", "10.1.2.3", "node.example"}
    assert certificate.not_valid_after_utc < ca.certificate.not_valid_after_utc
