"""The embedded engine: revision, reload, extra modules, errors and concurrent use (spec/abac.md §1.5, §1.6)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from dive.policy import PolicyBundle, PolicyBundleError, PolicyQueryError, RegistryData, build_data, compute_revision
from dive.policy.engines import RegopyEngine
from dive.policy.engines.regopy_engine import MAX_PREPARED_PATHS

TODO_MODULE = """package todo

import rego.v1

default allow := false

allow if input.subject.id == "rick@the-citadel.com"
"""


def test_revision_is_the_hash_of_sources_and_data_and_changes_with_the_registry(policy_bundle: PolicyBundle) -> None:
    data = build_data(policy_bundle.static_data, RegistryData(tenant_id="USA"))
    engine = RegopyEngine(policy_bundle, data)
    assert engine.revision() == compute_revision(policy_bundle.modules, data)
    before = engine.revision()
    engine.reload(build_data(policy_bundle.static_data, RegistryData(tenant_id="USA", test_codes=("XTB",))))
    assert engine.revision() != before
    assert engine.query("dive/policy").value["revision"] == engine.revision()


def test_reload_takes_effect_for_decisions(policy_bundle: PolicyBundle, make_input: Callable) -> None:
    engine = RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, RegistryData(tenant_id="USA")))
    document = make_input({}, [])
    assert engine.decide(document).failed == ("federation_trusted",)
    registry = RegistryData(tenant_id="USA", trusted_issuers={"https://idp.deu": "DEU"}, matrix={"DEU": ["USA"]})
    engine.reload(build_data(policy_bundle.static_data, registry))
    assert engine.decide(document).allow is True


def test_extra_module_is_served_beside_the_dive_packages(policy_bundle: PolicyBundle) -> None:
    engine = RegopyEngine(policy_bundle, extra_modules={"todo.rego": TODO_MODULE})
    assert engine.query("todo/allow", {"subject": {"id": "rick@the-citadel.com"}}).value is True
    assert engine.query("todo/allow", {"subject": {"id": "morty"}}).value is False
    assert engine.decide({}).allow is False


def test_invalid_extra_module_fails_the_reload_and_keeps_the_old_policy(policy_bundle: PolicyBundle) -> None:
    engine = RegopyEngine(policy_bundle)
    revision = engine.revision()
    with pytest.raises(PolicyBundleError) as err:
        engine.reload(extra_modules={"broken.rego": "package broken\n\nallow if {"})
    assert err.value.code == "policy_bundle_invalid"
    assert engine.revision() == revision
    assert engine.decide({}).allow is False


def test_data_path_with_a_foreign_segment_is_a_query_error(engine: RegopyEngine) -> None:
    with pytest.raises(PolicyQueryError) as err:
        engine.query('dive/authz"]; x := ["', {})
    assert err.value.code == "policy_query_failed"


def test_decide_many_keeps_request_order(engine: RegopyEngine, make_input: Callable) -> None:
    decisions = engine.decide_many([make_input({}, []), {}, make_input({"subject": {"acpCOI": []}}, [])])
    assert [decision.failed[:1] for decision in decisions] == [(), ("authenticated",), ("coi_satisfied",)]


def test_concurrent_decisions_from_several_threads_are_all_correct(engine: RegopyEngine, make_input: Callable) -> None:
    allowed, denied = make_input({}, []), make_input({"subject": {"acpCOI": []}}, [])
    outcomes: list[tuple[bool, bool]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                outcomes.append((engine.decide(allowed).allow, engine.decide(denied).allow))
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert outcomes == [(True, False)] * 60


def test_a_path_outside_the_pinned_queries_is_compiled_once_then_served_prepared(policy_bundle: PolicyBundle) -> None:
    engine = RegopyEngine(policy_bundle)
    started = time.perf_counter()
    first = engine.query("dive/authz/allow", {})
    compile_and_run = time.perf_counter() - started
    started = time.perf_counter()
    second = engine.query("dive/authz/allow", {})
    run_only = time.perf_counter() - started
    assert first == second
    assert first.value is False
    assert run_only * 5 < compile_and_run


def test_more_paths_than_the_prepared_cache_holds_still_answer_correctly(policy_bundle: PolicyBundle) -> None:
    engine = RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, RegistryData(tenant_id="USA")))
    paths = [f"dive/unknown{index}" for index in range(MAX_PREPARED_PATHS + 2)]
    assert all(not engine.query(path).defined for path in paths)
    assert engine.query("dive/tenant/id").value == "USA"
    assert engine.query(paths[0]).defined is False
    assert engine.query("dive/policy").value["revision"] == engine.revision()


def test_reload_discards_prepared_paths(policy_bundle: PolicyBundle) -> None:
    engine = RegopyEngine(policy_bundle, build_data(policy_bundle.static_data, RegistryData(tenant_id="USA")))
    assert engine.query("dive/tenant/id").value == "USA"
    engine.reload(build_data(policy_bundle.static_data, RegistryData(tenant_id="DEU")))
    assert engine.query("dive/tenant/id").value == "DEU"
