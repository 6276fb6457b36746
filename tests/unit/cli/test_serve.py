"""`dive serve`: help, and refusals with exit code 2 before anything is started."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dive.cli import serve as serve_module
from dive.cli.main import app
from dive.cli.serve import resolve_factory
from dive.service import ServiceFactoryError

SKELETON_DIR = Path(__file__).resolve().parents[2] / "integration"


def test_help_lists_the_serve_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "serve" in result.output


def test_serve_help_names_the_services_and_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for word in ("pdp", "kas", "idp", "api", "web", "--instance", "--port", "--home"):
        assert word in result.output


def test_unknown_service_exits_2_naming_the_choices(dive_home: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "printer", "--instance", "usa", "--home", str(dive_home)])
    assert result.exit_code == 2
    assert "service_unknown" in result.output and "pdp, kas, idp, api, web" in result.output
    assert not (dive_home / "pki").exists()


def test_service_whose_module_is_absent_exits_2_as_unavailable(
    dive_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(serve_module.SERVICE_FACTORIES, "pdp", "dive.no_such_component.app:create_app")  # type: ignore[arg-type]
    result = CliRunner().invoke(app, ["serve", "pdp", "--instance", "usa", "--home", str(dive_home)])
    assert result.exit_code == 2
    assert "service_unavailable" in result.output and "dive.no_such_component.app" in result.output


def test_factory_attribute_missing_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(serve_module.SERVICE_FACTORIES, "web", "dive.service.settings:create_app")  # type: ignore[arg-type]
    with pytest.raises(ServiceFactoryError, match="no app factory") as error:
        resolve_factory("web")
    assert error.value.code == "service_unavailable"


def test_invalid_instance_exits_2_before_creating_the_ca(dive_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SKELETON_DIR))
    monkeypatch.setitem(serve_module.SERVICE_FACTORIES, "pdp", "_skeleton_app:create_app")  # type: ignore[arg-type]
    result = CliRunner().invoke(app, ["serve", "pdp", "--instance", "france", "--home", str(dive_home)])
    assert result.exit_code == 2 and "settings_invalid" in result.output
    assert not (dive_home / "pki").exists()
