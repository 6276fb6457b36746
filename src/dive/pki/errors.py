"""Errors of the deployment PKI.

PkiError                     pki_error
├─ CaInvalidError            pki_ca_invalid
├─ CaBundleMissingError      pki_ca_bundle_missing
└─ CertificateInvalidError   pki_certificate_invalid
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CaBundleMissingError", "CaInvalidError", "CertificateInvalidError", "PkiError"]


class PkiError(Exception):
    code = "pki_error"

    def __init__(self, message: str, detail: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.detail = dict(detail or {})


class CaInvalidError(PkiError):
    code = "pki_ca_invalid"


class CaBundleMissingError(PkiError):
    code = "pki_ca_bundle_missing"


class CertificateInvalidError(PkiError):
    code = "pki_certificate_invalid"
