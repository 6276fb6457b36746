from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dive.policy import PolicyBundle, RegistryData, build_data
from dive.policy.engines import RegopyEngine

from .helpers import TEST_CODE, issuer_of


@pytest.fixture(scope="session")
def policy_bundle() -> PolicyBundle:
    return PolicyBundle.load()


@pytest.fixture(scope="session")
def engine(policy_bundle: PolicyBundle) -> RegopyEngine:
    """Default tenant settings; every instance's issuer trusted; every spoke federated with the hub both ways."""
    spokes = ["FRA", "DEU", "EST", "AUS", "JPN", "NOR", "TUR", TEST_CODE]
    registry = RegistryData(
        trusted_issuers={issuer_of(code): code for code in ["USA", *spokes]},
        matrix={"USA": spokes, **{code: ["USA"] for code in spokes}},
        test_codes=(TEST_CODE,),
    )
    return RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, registry))


@pytest.fixture(scope="session")
def kas_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
