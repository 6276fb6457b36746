"""The public surfaces of the skeleton packages list exactly what they export."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


@pytest.mark.parametrize("package", ["dive.service", "dive.pki", "dive.observability", "dive.cli"])
def test_every_exported_name_exists_and_public_names_are_exported(package: str) -> None:
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert public == set(module.__all__)
