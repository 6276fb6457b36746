"""The remote-hub settings and checks (orchestration Amendment A1, §1.3; CONSISTENCY #13): token lifetimes, hub
URLs, token and CA files, the trusted-CA store, partners from reported URLs, and the hub's refusal reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dive.federation import FederationError, RegistrationError
from dive.federation.remote import (
    EnrolmentRefusedError,
    enrolment_refusal,
    hub_partner,
    normalize_hub_url,
    parse_ttl,
    read_ca_pem,
    read_enrolment_token,
    record_partner,
    remote_hub_of,
    trust_partner_ca,
    trusted_ca_path,
)
from dive.pki import ca_bundle_path, ensure_ca


def _certificate_pem(*, ca: bool, name: str = "partner") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(("raw", "seconds"), [("72h", 259200), ("30m", 1800), ("2d", 172800), ("90", 90), ("5s", 5)])
def test_ttl_accepts_seconds_and_units(raw: str, seconds: int):
    assert parse_ttl(raw) == seconds


@pytest.mark.parametrize(("raw", "reason"), [("", "duration"), ("1w", "duration"), ("-5", "duration"),
                                             ("0", "between"), ("31d", "between")])  # fmt: skip
def test_ttl_refuses_what_is_not_a_lifetime_of_one_second_to_thirty_days(raw: str, reason: str):
    with pytest.raises(ValueError, match=reason):
        parse_ttl(raw)


@pytest.mark.parametrize(
    ("raw", "url"),
    [("https://hub.example:4000", "https://hub.example:4000"), ("https://hub.example:4000/", "https://hub.example:4000"),
     ("https://hub.example:4000/api", "https://hub.example:4000")],
)  # fmt: skip
def test_hub_url_is_the_api_base(raw: str, url: str):
    assert normalize_hub_url(raw) == url


@pytest.mark.parametrize(("raw", "reason"), [("http://hub:4000", "https://"), ("https://", "no host"),
                                             ("https://hub:4000/other", "without a path")])  # fmt: skip
def test_hub_url_refusals_name_the_problem(raw: str, reason: str):
    with pytest.raises(ValueError, match=reason):
        normalize_hub_url(raw)


def test_enrolment_token_file_holds_one_token(tmp_path: Path):
    path = tmp_path / "token"
    path.write_text("  " + "A" * 43 + "\n")
    assert read_enrolment_token(path) == "A" * 43
    for content, reason in (("", "is empty"), ("two tokens here", "does not hold"), ("short", "does not hold")):
        path.write_text(content)
        with pytest.raises(ValueError, match=reason):
            read_enrolment_token(path)
    with pytest.raises(ValueError, match="no such file"):
        read_enrolment_token(tmp_path / "missing")


def test_ca_file_must_hold_a_ca_certificate(tmp_path: Path):
    good, leaf, junk = tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "junk.pem"
    good.write_text(_certificate_pem(ca=True))
    leaf.write_text(_certificate_pem(ca=False))
    junk.write_text("not a certificate")
    assert read_ca_pem(good) == good.read_text()
    with pytest.raises(ValueError, match="no CA certificate"):
        read_ca_pem(leaf)
    with pytest.raises(ValueError, match="no readable PEM"):
        read_ca_pem(junk)
    with pytest.raises(ValueError, match="cannot be read"):
        read_ca_pem(tmp_path / "missing.pem")


def test_trusting_a_partner_ca_rebuilds_the_bundle_once(dive_home: Path):
    ensure_ca(dive_home)
    partner = _certificate_pem(ca=True, name="hub-ca")
    assert trust_partner_ca(dive_home, "usa", partner) is True
    assert trusted_ca_path(dive_home, "usa").read_text() == partner
    assert ca_bundle_path(dive_home).read_text().endswith(partner)
    assert trust_partner_ca(dive_home, "usa", partner) is False


def test_remote_hub_needs_a_hub_url_and_no_hub_in_this_home(dive_home: Path):
    environ = {"DIVE_HUB_URL": "https://hub:4000/api", "DIVE_ENROLMENT_TOKEN_FILE": "/t", "DIVE_HUB_CA_FILE": "/c"}
    remote = remote_hub_of(environ, dive_home)
    assert remote is not None and remote.api_url == "https://hub:4000"
    assert (str(remote.token_file), str(remote.ca_file)) == ("/t", "/c")
    assert remote_hub_of({}, dive_home) is None
    (dive_home / "instances" / "usa").mkdir(parents=True)
    assert remote_hub_of(environ, dive_home) is None


def test_partners_come_from_the_urls_the_other_side_reports():
    hub = hub_partner({"issuer": "https://a.example:8443/realms/dive-v3-broker-usa",
                       "apiUrl": "https://a.example:4000/", "kasUrl": "https://a.example:9000/kas"})  # fmt: skip
    assert (hub.idp_url, hub.api_url, hub.kas_url) == (
        "https://a.example:8443", "https://a.example:4000", "https://a.example:9000/kas"
    )  # fmt: skip
    fra = record_partner("FRA", "https://b.example:8453/realms/dive-v3-broker-fra", "https://b:4010", "https://b/kas")
    assert fra.code == "fra" and fra.issuer == "https://b.example:8453/realms/dive-v3-broker-fra"
    with pytest.raises(FederationError, match="does not end with"):
        record_partner("fra", "https://b.example:8453/realms/other", "https://b:4010", "https://b/kas")
    with pytest.raises(RegistrationError, match="lacks"):
        hub_partner({"issuer": "https://a.example:8443/realms/dive-v3-broker-usa"})


def test_the_hubs_refusal_of_a_token_keeps_its_reason():
    used = {"error": "invalid_token", "message": "The enrolment token was already used; it is single-use.",
            "details": {"reason": "enrolment_token_used"}}  # fmt: skip
    refusal = enrolment_refusal(401, used)
    assert isinstance(refusal, EnrolmentRefusedError) and refusal.code == "fed_enrolment_refused"
    assert "already used" in refusal.message and refusal.detail == {"status": 401, "reason": "enrolment_token_used"}
    other_code = {"error": "forbidden", "message": "This enrolment token is valid for DEU only, not 'FRA'.",
                  "details": {"reason": "insufficient_role"}}  # fmt: skip
    assert "valid for DEU only" in (enrolment_refusal(403, other_code) or refusal).message
    assert enrolment_refusal(400, used) is None and enrolment_refusal(401, None) is None
