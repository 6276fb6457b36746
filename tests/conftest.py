"""Fixtures and settings shared by every test; service processes are started through `harness`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harness import free_port_shift

# Two cores shared by several suites: modest example counts, no per-example deadline.
settings.register_profile("dive", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dive"))


@pytest.fixture
def dive_home(tmp_path: Path) -> Path:
    """An empty deployment home (0700), as `DIVE_HOME` would be on a fresh machine."""
    home = tmp_path / "dive-home"
    home.mkdir(mode=0o700)
    return home


@pytest.fixture
def port_shift() -> str:
    """A `DIVE_PORT_SHIFT` whose hub, FRA and DEU ports are free now, for commands that check or bind them."""
    return str(free_port_shift())
