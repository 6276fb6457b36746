"""The local keystore (spec/orchestration.md §9.1): 0600 files in 0700 directories, never overwrites silently."""

from __future__ import annotations

import stat

import pytest

from dive.secrets import LocalKeystore, SecretExistsError, SecretInsecureError, SecretPathInvalidError


def test_put_writes_a_0600_file_in_0700_directories_and_get_reads_it(dive_home):
    store = LocalKeystore(dive_home)
    store.put("kas/usa/kek", "k" * 44)
    file = dive_home / "secrets" / "kas" / "usa" / "kek"
    assert store.get("kas/usa/kek") == "k" * 44
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700


def test_put_on_an_existing_secret_without_overwrite_raises_secret_exists(dive_home):
    store = LocalKeystore(dive_home)
    store.put("usa/app-client-secret", "a" * 40)
    with pytest.raises(SecretExistsError) as err:
        store.put("usa/app-client-secret", "b" * 40)
    assert err.value.code == "secret_exists" and store.get("usa/app-client-secret") == "a" * 40


def test_ensure_generates_once_and_then_returns_the_stored_value(dive_home):
    store = LocalKeystore(dive_home)
    values = iter(["first-value-0123456789", "second-value-0123456789"])
    assert store.ensure("usa/x", lambda: next(values)) == "first-value-0123456789"
    assert store.ensure("usa/x", lambda: next(values)) == "first-value-0123456789"
    assert [meta.path for meta in store.list("usa/")] == ["usa/x"]


def test_get_refuses_a_group_readable_secret_file(dive_home):
    store = LocalKeystore(dive_home)
    store.put("kas/usa/kek", "k" * 44)
    (dive_home / "secrets" / "kas" / "usa" / "kek").chmod(0o644)
    with pytest.raises(SecretInsecureError) as err:
        store.get("kas/usa/kek")
    assert err.value.code == "secret_insecure"


@pytest.mark.parametrize("path", ["", "../etc/passwd", "USA/x", "a//b", "a/./b", "a b"])
def test_paths_outside_the_syntax_are_refused_before_touching_the_disk(dive_home, path):
    with pytest.raises(SecretPathInvalidError):
        LocalKeystore(dive_home).get(path)


def test_delete_prefix_removes_only_matching_secrets(dive_home):
    store = LocalKeystore(dive_home)
    for path in ("fra/a", "fra/b", "usa/a"):
        store.put(path, "v" * 20)
    assert store.delete_prefix("fra/") == 2
    assert store.get("fra/a") is None and store.get("usa/a") == "v" * 20
