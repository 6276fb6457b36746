"""`dive validate` rows (orchestration §11.3): classification, merging, the port plan, the document, and an empty
home that must show neither WARN nor FAIL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dive.orchestration.deploy.checks import CheckResult
from dive.orchestration.validate import validate_home
from dive.orchestration.validate_host import port_plan_collisions
from dive.orchestration.validation_rows import ValidationRow, merge_rows, row_from_check, validation_document
from harness import free_port_shift


def test_instance_check_statuses_map_to_validate_rows_without_ever_warning():
    statuses = [row_from_check(CheckResult("kas", s, "d", None, 1.0), "USA").status for s in ("pass", "fail", "skip")]
    assert statuses == ["OK", "FAIL", "SKIP"]


def test_merged_row_takes_the_worst_status_and_only_the_details_that_explain_it():
    rows = [
        ValidationRow("health.pdp", "USA", "OK", "HTTP 200"),
        ValidationRow("pdp", "USA", "FAIL", "no policy revision", "dive hub restart pdp"),
    ]
    merged = merge_rows("pdp", rows)
    assert (merged.id, merged.instance, merged.status, merged.detail) == ("pdp", "USA", "FAIL", "no policy revision")
    assert merged.remediation == "dive hub restart pdp"


def test_the_port_plan_has_no_collision_under_the_shifts_tests_use():
    assert port_plan_collisions(0) == [] and port_plan_collisions(20000) == []


def test_a_shift_pushing_ports_past_65535_is_reported_as_a_collision_of_the_plan():
    [problem] = port_plan_collisions(60000)
    assert "65535" in problem


def test_the_document_fails_exactly_when_a_row_fails_and_counts_every_status():
    rows = [ValidationRow("disk", None, "WARN", "1.5 GiB free"), ValidationRow("redis", None, "SKIP", "n/a")]
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    passing = validation_document(rows, home=Path("/h"), now=now)
    failing = validation_document([*rows, ValidationRow("ca", None, "FAIL", "expired")], home=Path("/h"), now=now)
    assert passing["result"] == "pass" and passing["generated_at"] == "2026-01-02T03:04:05.000Z"
    assert passing["counts"] == {"OK": 0, "WARN": 1, "FAIL": 0, "SKIP": 1} and passing["schema"] == "dive.validate/1"
    assert failing["result"] == "fail"


def test_a_fresh_home_has_no_warn_or_fail_and_skips_what_is_not_deployed(tmp_path: Path):
    environ = {"DIVE_PORT_SHIFT": str(free_port_shift(("usa",))), "DIVE_PROJECT_ROOT": str(tmp_path)}

    rows = validate_home(tmp_path / "home", environ)

    by_id = {row.id: row for row in rows}
    assert {row.status for row in rows} <= {"OK", "SKIP"}, [row for row in rows if row.status in ("WARN", "FAIL")]
    assert by_id["redis"].detail.startswith("n/a: embedded cache") and by_id["ca"].status == "SKIP"
    assert by_id["federation"].status == by_id["orch-db"].status == "SKIP"


def test_an_unimported_legacy_registry_file_is_a_warning(tmp_path: Path):
    legacy = tmp_path / "config" / "federation-registry.json"
    legacy.parent.mkdir()
    legacy.write_text("{}")
    environ = {"DIVE_PORT_SHIFT": str(free_port_shift(("usa",))), "DIVE_PROJECT_ROOT": str(tmp_path)}

    [row] = [row for row in validate_home(tmp_path / "home", environ) if row.id == "legacy-registry"]

    assert row.status == "WARN" and row.remediation == "dive federation migrate"
