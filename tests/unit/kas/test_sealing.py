"""KAS private keys sealed at rest (spec/ztdf-kas.md §10)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.kas.errors import KeyStoreError
from dive.kas.sealing import new_kek, seal_private_key, unseal_private_key


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_sealed_key_unseals_to_the_same_key_with_its_kek_and_kid(key):
    kek = new_kek()
    sealed = seal_private_key(kek, "usa-rsa-1", key)
    envelope = json.loads(sealed)
    assert envelope["v"] == 1 and envelope["alg"] == "A256GCM" and envelope["kid"] == "usa-rsa-1"
    assert unseal_private_key(kek, "usa-rsa-1", sealed).private_numbers() == key.private_numbers()


@pytest.mark.parametrize("case", ["other_kek", "other_kid", "tampered"])
def test_unsealing_with_another_kek_kid_or_a_tampered_envelope_fails_closed(key, case):
    kek = new_kek()
    sealed = seal_private_key(kek, "usa-rsa-1", key)
    kid = "usa-rsa-1"
    if case == "other_kek":
        kek = new_kek()
    elif case == "other_kid":
        envelope = json.loads(sealed)
        envelope["kid"] = kid = "usa-rsa-2"  # AAD binds the kid: relabelling the envelope does not help
        sealed = json.dumps(envelope)
    else:
        envelope = json.loads(sealed)
        envelope["ct"] = envelope["ct"][:-4] + ("AAAA" if not envelope["ct"].endswith("AAAA") else "BBBB")
        sealed = json.dumps(envelope)
    with pytest.raises(KeyStoreError) as err:
        unseal_private_key(kek, kid, sealed)
    assert err.value.code == "kas_key_store_invalid"
