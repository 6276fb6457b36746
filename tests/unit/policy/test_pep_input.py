"""The PEP's decision input (spec/abac.md §1.2; CONSISTENCY #1, #4, #11, #12)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dive.domain.timeparse import parse_rfc3339
from dive.policy.pep_input import (
    build_context,
    build_kas_input,
    build_read_input,
    build_subject,
    format_current_time,
    ztdf_integrity,
)

NOW = datetime(2026, 3, 2, 8, 15, 0, 123456, tzinfo=UTC)
CLAIMS: dict[str, object] = {
    "uniqueID": "testuser-fra-3",
    "clearance": "SECRET DÉFENSE",
    "countryOfAffiliation": "FRA",
    "acpCOI": ["NATO"],
    "organizationType": "GOV",
    "iss": "https://localhost:8453/realms/dive-v3-broker-fra",
    "acr": "2",
    "amr": ["pwd", "otp"],
    "preferred_username": "someone-else",
    "email": "analyst@example.fr",
    "user_acr": "3",
}
MANIFEST: dict[str, Any] = {
    "encryptionInformation": {
        "policy": "eyJ1dWlkIjoiYSJ9",
        "integrityInformation": {"rootSignature": {"alg": "HS256", "sig": "c2lnbmF0dXJl"}},
    }
}


@dataclass
class Row:
    resource_id: str = "doc-USA-seed-00001"
    instance_code: str = "usa"
    label: dict[str, Any] = field(
        default_factory=lambda: {
            "classification": "SECRET",
            "originalClassification": "SECRET",
            "originalCountry": "USA",
            "originatingCountry": "USA",
            "releasabilityTo": ["USA", "FRA"],
            "COI": ["NATO"],
            "coiOperator": "ALL",
            "caveats": [],
            "releasableToIndustry": False,
            "creationDate": "2026-03-01T10:00:00Z",
        }
    )
    encrypted: bool = True
    kas_urls: list[str] | None = field(default_factory=lambda: ["https://localhost:9000/kas", "https://h/kas"])
    manifest: dict[str, Any] | None = field(default_factory=lambda: MANIFEST)
    integrity_ok: bool = True


def test_subject_takes_verified_claims_verbatim_without_normalising_or_inferring():
    subject = build_subject(CLAIMS, authenticated=True)
    assert subject == {
        "authenticated": True,
        "uniqueID": "testuser-fra-3",
        "clearance": "SECRET DÉFENSE",
        "countryOfAffiliation": "FRA",
        "acpCOI": ["NATO"],
        "organizationType": "GOV",
        "issuer": "https://localhost:8453/realms/dive-v3-broker-fra",
    }


def test_subject_without_claims_sends_every_must_field_empty_and_adds_nothing():
    subject = build_subject({"sub": "abc", "preferred_username": "bob", "email": "bob@example.com"}, authenticated=True)
    assert subject == {
        "authenticated": True,
        "uniqueID": "",
        "clearance": "",
        "countryOfAffiliation": "",
        "acpCOI": [],
        "organizationType": "",
        "issuer": "",
    }


def test_subject_authenticated_is_false_unless_the_caller_verified_the_token():
    assert build_subject(CLAIMS, authenticated=False)["authenticated"] is False


def test_one_element_clearance_array_is_unwrapped_and_longer_ones_go_through():
    assert build_subject({"clearance": ["GEHEIM"]}, authenticated=True)["clearance"] == "GEHEIM"
    assert build_subject({"clearance": ["GEHEIM", "SECRET"]}, authenticated=True)["clearance"] == ["GEHEIM", "SECRET"]


def test_clearance_country_is_sent_only_when_the_token_carries_it():
    assert "clearanceCountry" not in build_subject(CLAIMS, authenticated=True)
    with_claim = build_subject({**CLAIMS, "clearanceCountry": "NATO"}, authenticated=True)
    assert with_claim["clearanceCountry"] == "NATO"


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ('["NATO", "FVEY"]', ["NATO", "FVEY"]),
        ("NATO, FVEY,,  ", ["NATO", "FVEY"]),
        ("NATO", ["NATO"]),
        (None, []),
        (["Alpha", "NATO"], ["Alpha", "NATO"]),
        ({"NATO": True}, {"NATO": True}),  # not a list: goes through so that the policy denies (P6)
    ],
)
def test_acp_coi_claim_is_parsed_split_or_passed_as_section_1_2_says(claim: object, expected: object):
    assert build_subject({"acpCOI": claim}, authenticated=True)["acpCOI"] == expected


def test_context_uses_the_tokens_acr_and_amr_never_the_user_attributes():
    context = build_context(CLAIMS, tenant="usa", now=NOW, request_id="req-12345678")
    assert context == {
        "currentTime": "2026-03-02T08:15:00.123456Z",
        "tenant": "USA",
        "acr": "2",
        "amr": ["pwd", "otp"],
        "requestId": "req-12345678",
    }


@pytest.mark.parametrize(("claim", "expected"), [("pwd", ["pwd"]), ('["pwd","otp"]', ["pwd", "otp"]), (None, [])])
def test_amr_string_claims_become_lists(claim: object, expected: list[str]):
    assert build_context({"amr": claim}, tenant="USA", now=NOW)["amr"] == expected


def test_context_without_acr_and_amr_omits_them():
    assert build_context({}, tenant="fra", now=NOW) == {"currentTime": "2026-03-02T08:15:00.123456Z", "tenant": "FRA"}


def test_current_time_is_utc_and_parses_with_the_policy_grammar_to_the_same_instant():
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    text = format_current_time(paris)
    assert text.endswith("Z")
    assert parse_rfc3339(text) == NOW


def test_current_time_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        format_current_time(datetime(2026, 1, 1))


def test_read_input_copies_the_stored_label_and_adds_kas_urls_and_integrity():
    built = build_read_input(CLAIMS, Row(), authenticated=True, tenant="usa", now=NOW)
    policy_hash = hashlib.sha256(b"eyJ1dWlkIjoiYSJ9").hexdigest()
    assert built["action"] == {"operation": "read"}
    assert built["resource"] == {
        "resourceId": "doc-USA-seed-00001",
        "classification": "SECRET",
        "originalClassification": "SECRET",
        "originalCountry": "USA",
        "releasabilityTo": ["USA", "FRA"],
        "COI": ["NATO"],
        "coiOperator": "ALL",
        "caveats": [],
        "releasableToIndustry": False,
        "creationDate": "2026-03-01T10:00:00Z",
        "encrypted": True,
        "kasUrls": ["https://localhost:9000/kas", "https://h/kas"],
        "ztdf": {"integrityValidated": True, "policyHash": policy_hash, "payloadHash": "c2lnbmF0dXJl"},
        "originInstance": "USA",
    }
    assert built["context"]["tenant"] == "USA"


def test_read_input_fills_absent_label_fields_with_what_the_policy_reads_for_absent():
    row = Row(label={"classification": "SECRET", "releasabilityTo": ["USA"]}, encrypted=False, manifest=None)
    resource = build_read_input(CLAIMS, row, authenticated=True, tenant="USA", now=NOW)["resource"]
    assert resource == {
        "resourceId": "doc-USA-seed-00001",
        "classification": "SECRET",
        "releasabilityTo": ["USA"],
        "COI": [],
        "coiOperator": "ALL",
        "caveats": [],
        "releasableToIndustry": False,
        "encrypted": False,
        "originInstance": "USA",
    }


def test_read_input_passes_ill_typed_label_fields_through_for_the_policy_to_deny():
    row = Row(label={"classification": 3, "releasabilityTo": "USA", "COI": "NATO", "releasableToIndustry": "true"})
    resource = build_read_input(CLAIMS, row, authenticated=True, tenant="USA", now=NOW)["resource"]
    assert (resource["classification"], resource["releasabilityTo"], resource["COI"]) == (3, "USA", "NATO")
    assert resource["releasableToIndustry"] == "true"


def test_kas_urls_are_distinct_in_manifest_order():
    row = Row(kas_urls=["https://b/kas", "https://a/kas", "https://b/kas"])
    resource = build_read_input(CLAIMS, row, authenticated=True, tenant="USA", now=NOW)["resource"]
    assert resource["kasUrls"] == ["https://b/kas", "https://a/kas"]


def test_ztdf_integrity_reports_a_failed_verification_and_missing_hashes_as_empty():
    assert ztdf_integrity(MANIFEST, integrity_ok=False)["integrityValidated"] is False
    assert ztdf_integrity({}, integrity_ok=True) == {"integrityValidated": True, "policyHash": "", "payloadHash": ""}


def test_kas_input_has_no_ztdf_and_no_kas_urls_and_decides_for_its_own_instance():
    label = Row().label
    built = build_kas_input(
        CLAIMS, label, resource_id="doc-FRA-seed-00009", origin_instance="fra", tenant="usa", now=NOW
    )
    assert built["action"] == {"operation": "decrypt"}
    assert built["subject"] == build_subject(CLAIMS, authenticated=True)
    resource = built["resource"]
    assert "ztdf" not in resource and "kasUrls" not in resource
    assert (resource["encrypted"], resource["originInstance"], built["context"]["tenant"]) == (True, "FRA", "USA")
