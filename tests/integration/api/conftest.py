"""One USA instance for the api tests: the test issuer, a real KAS, 60 seeded documents and the api process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import ServiceProcess

from .deployment import seed, start_api, start_kas
from .issuer import Issuer, start_issuer

SEEDED = 60


@dataclass
class ApiDeployment:
    api: ServiceProcess
    kas: ServiceProcess
    issuer: Issuer
    home: Path
    ids: list[str]


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiDeployment]:
    home = tmp_path_factory.mktemp("api") / "home"
    home.mkdir(mode=0o700)
    issuer, server = start_issuer(home, "usa")
    kas = start_kas(home, "usa", issuer.url)
    try:
        ids = seed(home, "usa", SEEDED)
        api = start_api(home, "usa", issuer.url, DIVE_UPLOAD_MAX_BYTES="200000")
        try:
            yield ApiDeployment(api=api, kas=kas, issuer=issuer, home=home, ids=ids)
        finally:
            api.stop()
    finally:
        kas.stop()
        server.shutdown()
        server.server_close()
