"""Client TLS contexts from the deployment bundle, and picking up partner CAs without a restart."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from dive.pki import CaBundleMissingError, TrustStore, ensure_ca, ssl_context_for


def test_context_verifies_peers_and_host_names(dive_home: Path) -> None:
    context = ssl_context_for(ensure_ca(dive_home).bundle_path)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_missing_bundle_is_an_error_with_the_next_step(dive_home: Path) -> None:
    with pytest.raises(CaBundleMissingError, match="DIVE_CA_BUNDLE") as error:
        ssl_context_for(dive_home / "pki" / "bundle.pem")
    assert error.value.code == "pki_ca_bundle_missing"


def test_bundle_without_certificates_is_refused(dive_home: Path) -> None:
    bundle = dive_home / "bundle.pem"
    bundle.write_text("nothing here\n")
    with pytest.raises(CaBundleMissingError) as error:
        ssl_context_for(bundle)
    assert error.value.code == "pki_ca_bundle_missing"


def test_trust_store_adds_a_partner_ca_appended_to_the_bundle(tmp_path: Path) -> None:
    own, partner = ensure_ca(tmp_path / "hub"), ensure_ca(tmp_path / "fra")
    store = TrustStore(own.bundle_path)
    context = store.context
    assert store.refresh() is False
    own.bundle_path.write_bytes(own.cert_path.read_bytes() + partner.cert_path.read_bytes())
    stat = own.bundle_path.stat()
    os.utime(own.bundle_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert store.refresh() is True
    assert store.context is context and len(context.get_ca_certs()) == 2
