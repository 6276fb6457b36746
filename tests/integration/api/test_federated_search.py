"""Federated search across three real api processes (identity-api-ui §B.6; CONSISTENCY #17): merge, per-instance
status, a slowed partner reported as `timeout` and a stopped one as `unavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import ServiceProcess

from .deployment import dive, register_partner, seed, start_api
from .issuer import Issuer, start_issuer
from .slow_proxy import SlowProxy


@dataclass
class Federation:
    apis: dict[str, ServiceProcess]
    issuer: Issuer
    proxy: SlowProxy


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    home: Path = tmp_path_factory.mktemp("federation") / "home"
    home.mkdir(mode=0o700)
    servers, issuers, apis = [], {}, {}
    try:
        for code in ("usa", "fra", "deu"):
            issuer, server = start_issuer(home, code)
            servers.append(server)
            issuers[code] = issuer
            dive(home, "kas", "rotate", code)
            seed(home, code, 15)
        for code in ("fra", "deu"):
            register_partner(home, code, "usa", issuer=issuers["usa"].url, api_url="https://localhost:1")
            apis[code] = start_api(home, code, issuers[code].url)
        proxy = SlowProxy(apis["deu"].port)
        register_partner(home, "usa", "fra", issuer=issuers["fra"].url, api_url=f"https://localhost:{apis['fra'].port}")
        register_partner(home, "usa", "deu", issuer=issuers["deu"].url, api_url=f"https://localhost:{proxy.port}")
        apis["usa"] = start_api(home, "usa", issuers["usa"].url, DIVE_FEDSEARCH_PARTNER_TIMEOUT_MS="2000")
        yield Federation(apis=apis, issuer=issuers["usa"], proxy=proxy)
        proxy.close()
    finally:
        for api in apis.values():
            api.stop()
        for server in servers:
            server.shutdown()
            server.server_close()


def _search(federation: Federation, **params: str) -> dict[str, object]:
    token = federation.issuer.token(clearance="TOP SECRET", acpCOI=["NATO", "FVEY", "NATO-COSMIC", "US-ONLY"])
    with federation.apis["usa"].client(timeout=30) as client:
        response = client.get(
            "/api/resources/federated-search",
            params={"pageSize": "50", **params},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    return response.json()


def test_federated_search_merges_every_instance_with_their_status(federation: Federation):
    body = _search(federation)
    clusters = body["_clusters"]["instances"]
    assert {code: c["status"] for code, c in clusters.items()} == {"USA": "ok", "FRA": "ok", "DEU": "ok"}
    instances = {item["instance"] for item in body["items"]}
    assert instances == {"USA", "FRA", "DEU"}
    assert body["total"] == sum(c["count"] for c in clusters.values())
    keys = [(item["instance"], item["resourceId"]) for item in body["items"]]
    assert len(keys) == len(set(keys))


def test_a_slow_partner_is_reported_as_timeout_and_a_stopped_one_as_unavailable(federation: Federation):
    federation.proxy.delay_s = 5.0
    federation.apis["fra"].stop()
    body = _search(federation, q="a")
    clusters = body["_clusters"]["instances"]
    assert clusters["DEU"]["status"] == "timeout" and "2000 ms" in clusters["DEU"]["error"]
    assert clusters["FRA"]["status"] == "unavailable"
    assert clusters["USA"]["status"] == "ok" and body["cached"] is False
    assert {item["instance"] for item in body["items"]} <= {"USA"}
