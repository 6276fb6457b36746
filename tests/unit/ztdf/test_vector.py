"""Appendix A test vector of spec/ztdf-kas.md, reproduced byte for byte by the writer's primitives."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dive.ztdf import Label, build_policy, compute_policy_binding, is_policy_binding_valid
from dive.ztdf.assertions import LABEL_ASSERTION_ID, assertion_hash, bind_assertion, verify_assertion
from dive.ztdf.crypto import encrypt_segment
from dive.ztdf.integrity import compute_root_signature, compute_segment_hash
from dive.ztdf.manifest import AssertionStatement
from dive.ztdf.stanag4774 import STANAG_4774_SCHEMA, render_4774

DEK = bytes(range(32))
PLAINTEXT = b"DIVE V3 ZTDF test vector: two segments."
IVS = [bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab"), bytes.fromhex("b0b1b2b3b4b5b6b7b8b9babb")]
PS = (
    "eyJ1dWlkIjoiM2IxZjZhNTItOGMwZS00ZDdhLTlmMWUtMmE2YzVkNGUzZjEwIiwiYm9keSI6eyJkYXRhQXR0cmlidXRlcyI6W3siYXR0cmlidX"
    "RlIjoiaHR0cHM6Ly9kaXZlLm5hdG8uaW50L2F0dHIvY2xhc3NpZmljYXRpb24vdmFsdWUvc2VjcmV0In0seyJhdHRyaWJ1dGUiOiJodHRwczov"
    "L2RpdmUubmF0by5pbnQvYXR0ci9yZWxlYXNhYmxlLXRvL3ZhbHVlL2diciJ9LHsiYXR0cmlidXRlIjoiaHR0cHM6Ly9kaXZlLm5hdG8uaW50L2"
    "F0dHIvcmVsZWFzYWJsZS10by92YWx1ZS91c2EifSx7ImF0dHJpYnV0ZSI6Imh0dHBzOi8vZGl2ZS5uYXRvLmludC9hdHRyL2NvaS92YWx1ZS9m"
    "dmV5In1dLCJkaXNzZW0iOltdLCJkaXZlIjp7InYiOjEsInJlc291cmNlSWQiOiJkb2MtVVNBLXR2LTAwMDAxIiwiaW5zdGFuY2UiOiJVU0EiLC"
    "JjcmVhdGlvbkRhdGUiOiIyMDI2LTAzLTAxVDEwOjAwOjAwWiIsIm9yaWdpbmFsQ2xhc3NpZmljYXRpb24iOiJTRUNSRVQiLCJvcmlnaW5hbENv"
    "dW50cnkiOiJVU0EifX19"
)
PAYLOAD_HEX = (
    "a0a1a2a3a4a5a6a7a8a9aaaba2512a68659d319f3831c395270ea5ad048c2f75f1c32d1ebaeb18f7bc26106d95ca853869092468"
    "b0b1b2b3b4b5b6b7b8b9babba3752edc83edc83a2095f2ccb92ea67d2492d9aa609c3c3b855150e4b2c676"
)
LABEL = Label(
    classification="SECRET",
    releasable_to=("USA", "GBR"),
    originator_country="USA",
    creation_date="2026-03-01T10:00:00Z",
    cois=("FVEY",),
)


def _segments() -> list[bytes]:
    aead = AESGCM(DEK)
    return [encrypt_segment(aead, IVS[0], PLAINTEXT[:24]), encrypt_segment(aead, IVS[1], PLAINTEXT[24:])]


def test_policy_string_is_reproduced_byte_for_byte() -> None:
    policy = build_policy(LABEL, resource_id="doc-USA-tv-00001", policy_uuid="3b1f6a52-8c0e-4d7a-9f1e-2a6c5d4e3f10")
    assert policy == PS
    assert len(base64.b64decode(policy)) == 510


def test_policy_binding_is_reproduced_and_both_encodings_verify() -> None:
    assert compute_policy_binding(DEK, PS) == "tQA1WbGXpNLu5EGzB7zhn3YOMeNfOp29ln9WGK7lQs4="
    hex_form = "YjUwMDM1NTliMTk3YTRkMmVlZTQ0MWIzMDdiY2UxOWY3NjBlMzFlMzVmM2E5ZGJkOTY3ZjU2MThhZWU1NDJjZQ=="
    assert is_policy_binding_valid(hex_form, DEK, PS)
    assert is_policy_binding_valid("tQA1WbGXpNLu5EGzB7zhn3YOMeNfOp29ln9WGK7lQs4=", DEK, PS)
    assert not is_policy_binding_valid(hex_form, DEK, PS[:-1] + "=")


def test_payload_segment_hashes_and_root_signature_are_reproduced() -> None:
    segments = _segments()
    assert b"".join(segments).hex() == PAYLOAD_HEX
    hashes = [compute_segment_hash("GMAC", DEK, s) for s in segments]
    assert [base64.b64encode(h).decode() for h in hashes] == ["uusY97wmEG2VyoU4aQkkaA==", "fSSS2apgnDw7hVFQ5LLGdg=="]
    assert compute_root_signature(DEK, b"".join(hashes)) == "qC1Q+KtYxfQl7UFQJUa4WLXF8JxxbVNYN9/GcxqQ9hc="


def test_label_assertion_hash_signature_and_jws_claims_are_reproduced() -> None:
    aggregate = b"".join(compute_segment_hash("GMAC", DEK, s) for s in _segments())
    statement = AssertionStatement("json-structured", STANAG_4774_SCHEMA, render_4774(LABEL))
    assertion = bind_assertion(assertion_id=LABEL_ASSERTION_ID, statement=statement, dek=DEK, aggregate=aggregate)
    assert assertion_hash(assertion) == "394bc969e26b66d6e730f8a4e7943fc9c9a418702c4996c9a28e7d58d12686c0"
    assert assertion.binding_signature == (
        "eyJhbGciOiJIUzI1NiJ9.eyJhc3NlcnRpb25IYXNoIjoiMzk0YmM5NjllMjZiNjZkNmU3MzBmOGE0ZTc5NDNmYzljOWE0MTg3MDJjNDk5NmM5"
        "YTI4ZTdkNThkMTI2ODZjMCIsImFzc2VydGlvblNpZyI6InV1c1k5N3dtRUcyVnlvVTRhUWtrYUgwa2t0bXFZSnc4TzRWUlVPU3l4blk1UzhscD"
        "RtdG0xdWN3K0tUbmxEL0p5YVFZY0N4SmxzbWlqbjFZMFNhR3dBPT0ifQ.nWIGeIqNNM05pDJ4n1OzQl3gAlZ_4VntUnq0TDfSV5k"
    )
    verify_assertion(assertion, DEK, aggregate, hex_form=False)
