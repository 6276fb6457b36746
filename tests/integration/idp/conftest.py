"""A real `dive serve idp` process for USA over HTTPS with the test CA (tests/harness.py)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import ServiceProcess, start_service

ADMIN_PASSWORD = "Admin-pass-1234567!"


@dataclass(frozen=True)
class RunningIdp:
    process: ServiceProcess
    admin_password: str

    @property
    def url(self) -> str:
        """The public URL: issuers name `DIVE_PUBLIC_HOST` (localhost), never the address we connected to."""
        return f"https://localhost:{self.process.port}"

    @property
    def ca_bundle(self) -> str:
        return str(self.process.ca_bundle)


def _run(tmp_path_factory: pytest.TempPathFactory, **extra: str) -> Iterator[RunningIdp]:
    home = tmp_path_factory.mktemp("idp-home")
    env = {
        "DIVE_SECRET_USA_DATA_PROTECTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        "DIVE_SECRET_USA_IDP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DIVE_IDP_ARGON2_TIME_COST": "1",
        "DIVE_IDP_ARGON2_MEMORY_KIB": "1024",
        **extra,
    }
    with start_service("idp", "usa", home=Path(home), env=env, timeout_s=60) as process:
        yield RunningIdp(process=process, admin_password=ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def running_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdp]:
    yield from _run(tmp_path_factory)


@pytest.fixture(scope="module")
def short_admin_token_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdp]:
    """Admin access tokens live 2 s, so a test crosses their expiry (§A.10 "token expiry")."""
    yield from _run(tmp_path_factory, DIVE_IDP_ADMIN_TOKEN_LIFESPAN_S="2")
