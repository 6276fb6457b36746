"""The deployment CA: created once, private key 0600 in 0700 directories, one CA under concurrency."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dive.pki import CaInvalidError, ca_bundle_path, ensure_ca, load_ca, rebuild_ca_bundle


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_ca_key_certificate_and_bundle_with_private_permissions(dive_home: Path) -> None:
    ca = ensure_ca(dive_home)
    assert _mode(ca.key_path) == 0o600
    assert _mode(dive_home / "pki") == 0o700
    assert ca.cert_path == dive_home / "pki" / "ca.crt"
    assert ca_bundle_path(dive_home).read_bytes() == ca.cert_path.read_bytes()
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True


def test_home_is_created_private_when_missing(tmp_path: Path) -> None:
    ensure_ca(tmp_path / "new-home")
    assert _mode(tmp_path / "new-home") == 0o700


def test_second_use_loads_the_same_ca(dive_home: Path) -> None:
    first, second = ensure_ca(dive_home), ensure_ca(dive_home)
    assert first.certificate == second.certificate


def test_two_deployments_get_distinct_ca_names(tmp_path: Path) -> None:
    assert ensure_ca(tmp_path / "a").certificate.subject != ensure_ca(tmp_path / "b").certificate.subject


def _ensure_and_report(home: Path, barrier: Barrier, queue: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    queue.put(ensure_ca(home).certificate.fingerprint(hashes.SHA256()).hex())


def test_processes_racing_on_first_use_end_up_with_one_ca(dive_home: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(3), context.Queue()
    workers = [context.Process(target=_ensure_and_report, args=(dive_home, barrier, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    fingerprints = {queue.get(timeout=5) for _ in workers}
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert fingerprints == {load_ca(dive_home).certificate.fingerprint(hashes.SHA256()).hex()}


def test_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path) -> None:
    ensure_ca(tmp_path / "a")
    other = ensure_ca(tmp_path / "b")
    (tmp_path / "a" / "pki" / "ca.key").write_bytes(other.key_path.read_bytes())
    with pytest.raises(CaInvalidError, match="not the private key") as error:
        load_ca(tmp_path / "a")
    assert error.value.code == "pki_ca_invalid"


def test_unreadable_ca_is_refused_with_the_next_step(dive_home: Path) -> None:
    ensure_ca(dive_home)
    (dive_home / "pki" / "ca.crt").write_text("garbage")
    with pytest.raises(CaInvalidError, match="restore it or remove") as error:
        ensure_ca(dive_home)
    assert error.value.code == "pki_ca_invalid"


def test_missing_certificate_after_a_crash_starts_the_ca_over(dive_home: Path) -> None:
    first = ensure_ca(dive_home)
    first.cert_path.unlink()
    assert ensure_ca(dive_home).certificate != first.certificate


def test_bundle_holds_own_ca_then_partner_cas(tmp_path: Path) -> None:
    own, partner = ensure_ca(tmp_path / "hub"), ensure_ca(tmp_path / "fra")
    trusted = tmp_path / "hub" / "pki" / "trusted"
    trusted.mkdir()
    (trusted / "fra.pem").write_bytes(partner.cert_path.read_bytes())
    bundle = x509.load_pem_x509_certificates(rebuild_ca_bundle(tmp_path / "hub").read_bytes())
    assert bundle == [own.certificate, partner.certificate]
