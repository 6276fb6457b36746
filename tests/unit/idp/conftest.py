"""In-process idp fixture (see idp_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from idp_support import Idp, start_idp


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[Idp]:
    yield from start_idp(tmp_path)
