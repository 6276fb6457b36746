"""Deployment certificate authority and service certificates."""

from __future__ import annotations

from dive.pki.ca import CertificateAuthority, ca_bundle_path, ca_certificate_path, ensure_ca, load_ca, rebuild_ca_bundle
from dive.pki.certificates import (
    certificate_hosts,
    certificate_not_after,
    ensure_service_certificate,
    issue_certificate,
    service_certificate_paths,
)
from dive.pki.errors import CaBundleMissingError, CaInvalidError, CertificateInvalidError, PkiError
from dive.pki.tls import TrustStore, ssl_context_for

__all__ = [
    "CaBundleMissingError",
    "CaInvalidError",
    "CertificateAuthority",
    "CertificateInvalidError",
    "PkiError",
    "TrustStore",
    "ca_bundle_path",
    "ca_certificate_path",
    "certificate_hosts",
    "certificate_not_after",
    "ensure_ca",
    "ensure_service_certificate",
    "issue_certificate",
    "load_ca",
    "rebuild_ca_bundle",
    "service_certificate_paths",
    "ssl_context_for",
]
