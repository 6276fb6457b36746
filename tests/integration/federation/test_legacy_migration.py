"""`dive federation migrate` of an upstream v3.1.0 registry (orchestration §8.7, §13.3): counts computed
independently from the fixture, retirement of the file, crash points killed by SIGKILL, reruns that lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dive import catalog
from dive.federation import read_through_legacy
from dive.federation.records import instance_session
from dive.store import ensure_schema, instance_database_url
from dive.store.models.registry import FederationLink, FederationMatrixEntry, FederationSpoke, RegistryImport

SPOKES = [code for code in list(catalog.CATALOG)[1:24]]  # 23 catalog spokes


def _fixture() -> dict[str, object]:
    instances: dict[str, object] = {"usa": {"code": "USA", "name": "United States", "type": "local", "enabled": True,
                                            "primary": True, "services": {}}}  # fmt: skip
    for index, code in enumerate(SPOKES):
        remote = index % 5 == 0
        services = {"keycloak": {"protocol": "https", "hostname": f"idp.{code}.example", "externalPort": 443},
                    "backend": {"protocol": "https", "hostname": f"api.{code}.example", "externalPort": 8443},
                    "frontend": {"protocol": "https", "hostname": f"{code}.example", "externalPort": 443}}  # fmt: skip
        instances[code] = {"code": code.upper(), "name": code.title(), "type": "remote" if remote else "local",
                           "enabled": index != 3, "locale": "en", "services": services}  # fmt: skip
    matrix = {"usa": ["usa", *SPOKES[:10]], SPOKES[0]: [SPOKES[0], SPOKES[1]], SPOKES[2]: ["xyz"]}
    return {"$schema": "x", "version": "3.1.0", "metadata": {"generated": "2025"}, "instances": instances,
            "federation": {"matrix": matrix, "trustModel": "bilateral",
                           "attributeMapping": {"uniqueID": {}, "clearance": {}, "countryOfAffiliation": {},
                                                "acpCOI": {}}}}  # fmt: skip


def _expected_pairs(document: dict) -> set[tuple[str, str]]:
    known = set(document["instances"])
    return {(a, b) for a, bs in document["federation"]["matrix"].items() for b in bs if a != b and b in known}


@pytest.fixture
def hub_home(dive_home: Path) -> Path:
    ensure_schema(instance_database_url(dive_home, "usa"))
    return dive_home


def _write(path: Path) -> dict:
    document = _fixture()
    path.write_text(json.dumps(document))
    return document


def _migrate(
    home: Path, source: Path, *extra: str, crash: str | None = None, json_errors: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIVE_HOME": str(home), "DIVE_ENV": "test"}
    if crash:
        env |= {"DIVE_TEST_HOOKS": "1", "DIVE_TEST_CRASH_AT": crash}
    flags = ["--json"] if json_errors else []
    command = [
        sys.executable,
        "-m",
        "dive",
        *flags,
        "--home",
        str(home),
        "federation",
        "migrate",
        "--from",
        str(source),
    ]
    command += extra
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def _database(home: Path) -> tuple[set[str], set[tuple[str, str]], int, list[str]]:
    with instance_session(instance_database_url(home, "usa")) as session:
        codes = set(session.scalars(select(FederationSpoke.code)))
        pairs = {(m.owner_code, m.partner_code) for m in session.scalars(select(FederationMatrixEntry))}
        links = session.scalar(select(func.count()).select_from(FederationLink)) or 0
        imports = [row.status for row in session.scalars(select(RegistryImport).order_by(RegistryImport.id))]
    return codes, pairs, links, imports


def test_migrate_imports_every_spoke_and_pair_then_retires_the_file_and_a_rerun_has_nothing_to_do(hub_home, tmp_path):
    source = tmp_path / "federation-registry.json"
    document = _write(source)
    done = _migrate(hub_home, source)
    assert done.returncode == 0, done.stderr
    pairs = _expected_pairs(document)
    assert "instances  24 → hub 1 (not imported), spokes 23: 23 imported, 0 already registered" in done.stdout
    assert f"matrix     {len(pairs)} pairs imported, 2 self-references ignored" in done.stdout
    assert f"Verified: 23/23 spokes and {len(pairs)}/{len(pairs)} matrix pairs" in done.stdout
    codes, found_pairs, links, imports = _database(hub_home)
    assert codes == set(SPOKES) and found_pairs == pairs and links == 2 * 10 and imports == ["retired"]
    assert not source.exists() and len(list(tmp_path.glob("federation-registry.json.migrated-*"))) == 1
    again = _migrate(hub_home, source)
    assert again.returncode == 0 and "Nothing to migrate: legacy registry already retired" in again.stdout


def test_a_disabled_legacy_spoke_is_imported_suspended_and_remote_urls_come_from_the_file(hub_home, tmp_path):
    source = tmp_path / "registry.json"
    _write(source)
    assert _migrate(hub_home, source).returncode == 0
    with instance_session(instance_database_url(hub_home, "usa")) as session:
        disabled = session.get(FederationSpoke, SPOKES[3])
        remote = session.get(FederationSpoke, SPOKES[0])
        assert disabled.status == "suspended" and disabled.suspended_reason == "disabled in legacy registry"
        assert remote.kind == "remote" and remote.api_url == f"https://api.{SPOKES[0]}.example:8443"
        assert remote.issuer == f"https://idp.{SPOKES[0]}.example/realms/dive-v3-broker-{SPOKES[0]}"
        assert remote.trust_level == "bilateral" and remote.max_classification == "SECRET"


@pytest.mark.parametrize("crash", ["migrate:before_commit", "migrate:after_commit", "migrate:after_rename"])
def test_a_migration_killed_at_a_crash_point_is_finished_by_a_rerun_without_duplicates(hub_home, tmp_path, crash):
    source = tmp_path / "federation-registry.json"
    document = _write(source)
    killed = _migrate(hub_home, source, crash=crash)
    assert killed.returncode == -9
    codes, _, _, _ = _database(hub_home)
    if crash == "migrate:before_commit":
        assert codes == set() and source.exists()
    rerun = _migrate(hub_home, source)
    assert rerun.returncode == 0, rerun.stderr
    codes, pairs, links, imports = _database(hub_home)
    assert codes == set(SPOKES) and pairs == _expected_pairs(document) and links == 20
    assert imports[-1] == "retired" and imports.count("retired") == 1
    assert not source.exists() and len(list(tmp_path.glob("federation-registry.json.migrated-*"))) == 1


def test_dry_run_prints_the_counts_and_changes_nothing(hub_home, tmp_path):
    source = tmp_path / "federation-registry.json"
    _write(source)
    done = _migrate(hub_home, source, "--dry-run")
    assert done.returncode == 0 and "Dry run: nothing was changed." in done.stdout
    assert _database(hub_home)[0] == set() and source.exists()


def test_a_registry_of_another_major_version_is_refused_with_a_json_error_unless_forced(hub_home, tmp_path):
    source = tmp_path / "federation-registry.json"
    source.write_text(json.dumps({**_fixture(), "version": "2.0"}))
    refused = _migrate(hub_home, source, json_errors=True)
    assert refused.returncode == 1
    error = json.loads(refused.stdout)
    assert error["schema"] == "dive.error/1" and error["error"]["code"] == "LEGACY_REGISTRY_INVALID"
    assert source.exists() and _database(hub_home)[0] == set()
    assert _migrate(hub_home, source, "--force").returncode == 0


def test_read_through_imports_into_an_empty_registry_once(hub_home, tmp_path):
    source = tmp_path / "federation-registry.json"
    _write(source)
    url = instance_database_url(hub_home, "usa")
    assert read_through_legacy(url, source, lock_dir=hub_home / "locks", environ={}) is None
    assert _database(hub_home)[0] == set(SPOKES) and not source.exists()
    _write(source)  # a restored file is not read again: the registry is no longer empty
    assert read_through_legacy(url, source, lock_dir=hub_home / "locks", environ={}) is None
    assert source.exists() and _database(hub_home)[3] == ["retired"]
