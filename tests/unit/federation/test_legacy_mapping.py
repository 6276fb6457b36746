"""The legacy registry mapping (orchestration §8.7) without a database."""

from __future__ import annotations

import pytest

from dive.federation.errors import LegacyRegistryError
from dive.federation.legacy_mapping import plan_legacy_import

DOC = {
    "version": "3.1.0",
    "instances": {
        "usa": {"code": "USA", "primary": True},
        "fra": {"code": "FRA", "name": "France", "type": "local", "enabled": True},
        "deu": {"code": "DEU", "type": "local", "enabled": False},
        "gbr": {"code": "XXX", "type": "local"},
        "nld": {"code": "NLD", "type": "remote", "services": {
            "keycloak": {"protocol": "https", "hostname": "idp.nl", "externalPort": 8443},
            "backend": {"protocol": "https", "hostname": "api.nl", "externalPort": 443},
            "frontend": {"protocol": "https", "hostname": "nl", "externalPort": 443}}},
    },
    "federation": {"trustModel": "federated", "matrix": {"usa": ["usa", "fra", "zzz"], "fra": ["deu", "fra"]}},
}  # fmt: skip


def test_the_plan_keeps_the_hub_out_rejects_a_mismatched_code_and_counts_self_references():
    plan = plan_legacy_import(DOC, existing={"deu"}, environ={}, force=False)
    assert plan.hub_codes == ["usa"] and plan.accepted == ["fra", "nld"] and plan.kept == ["deu"]
    assert plan.pairs == [("usa", "fra"), ("fra", "deu")] and plan.self_references == 2
    assert plan.link_codes == ["fra"]
    assert any("GBR" in w or "'gbr'" in w for w in plan.warnings) and any("ZZZ" in w for w in plan.warnings)


def test_an_unknown_trust_model_becomes_development_and_remote_urls_drop_port_443():
    plan = plan_legacy_import(DOC, existing=set(), environ={}, force=False)
    nld = {s.code: s.values for s in plan.spokes}["nld"]
    assert nld["trust_level"] == "development" and nld["max_classification"] == "UNCLASSIFIED"
    assert nld["idp_url"] == "https://idp.nl:8443" and nld["api_url"] == "https://api.nl"
    assert (
        nld["kas_url"] == "https://idp.nl:9020/kas" and nld["issuer"] == "https://idp.nl:8443/realms/dive-v3-broker-nld"
    )
    fra = {s.code: s.values for s in plan.spokes}["fra"]
    assert fra["idp_url"] == "https://localhost:8453"  # local spokes take the catalog URLs


def test_a_version_other_than_3_is_refused_unless_forced():
    with pytest.raises(LegacyRegistryError, match=r"not 3\.x") as refused:
        plan_legacy_import({**DOC, "version": "2.4"}, existing=set(), environ={}, force=False)
    assert refused.value.code == "legacy_registry_invalid"
    assert plan_legacy_import({**DOC, "version": "2.4"}, existing=set(), environ={}, force=True).accepted
