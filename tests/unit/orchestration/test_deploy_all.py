"""`spoke deploy-all` (orchestration §4.7): spoke selection, child command lines, event folding, exit rules, refusals,
and the fan-out itself driven with small real child processes that write event logs as a deploy would; the
clean-locks command line on a fresh home (§6.4; the lock handling itself is in test_clean_locks.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dive.cli.deploy_all import deploy_options, global_options
from dive.cli.instance_commands import DeployFlags
from dive.cli.main import app
from dive.orchestration.deploy_all import (
    ChildProgress,
    ProgressRow,
    SpokeJob,
    child_command,
    normalize_spoke_codes,
    outcome_message,
    overall_exit_code,
    plan_jobs,
    refuse_unfederatable,
    run_deploy_all,
    spokes_with_history,
    summary_document,
)
from dive.orchestration.errors import PreconditionError, UsageError
from dive.orchestration.events import run_log_path
from dive.orchestration.invocation import GlobalOptions
from dive.orchestration.run_records import insert_run
from dive.orchestration.states import transition

RUN_ID = "20260101T000000Z-abcdef"


def test_spoke_codes_are_lower_cased_and_deduplicated_in_the_given_order():
    assert normalize_spoke_codes(["FRA", "deu", "fra", "Alb"]) == ["fra", "deu", "alb"]


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["usa"], "usa is the hub"),
        (["hub"], "usa is the hub"),
        (["fr"], "'fr' is not an instance code"),
        (["xqz"], "unknown instance XQZ"),
    ],
)
def test_the_hub_malformed_and_unknown_codes_are_usage_errors(codes: list[str], message: str):
    with pytest.raises(UsageError, match=message) as err:
        normalize_spoke_codes(codes)
    assert err.value.exit_code == 2


def test_child_command_is_a_quiet_non_interactive_spoke_deploy_with_the_run_id():
    argv = child_command("fra", RUN_ID, ["--resume"], global_options=["--home", "/h"], executable="python3")

    assert argv == [
        "python3",
        "-m",
        "dive",
        "--yes",
        "--quiet",
        "--home",
        "/h",
        "spoke",
        "deploy",
        "fra",
        "--run-id",
        RUN_ID,
        "--resume",
    ]


def test_every_spoke_deploy_option_is_forwarded_to_the_children():
    flags = DeployFlags(
        resume=True,
        skip=["SEEDING"],
        seed_count=200,
        with_test_users=True,
        skip_federation=True,
        approval_timeout_s=30.0,
        force=True,
        wait_lock_s=2.5,
        dry_run=True,
    )

    assert deploy_options(flags) == [
        "--resume",
        "--with-test-users",
        "--skip-federation",
        "--force",
        "--dry-run",
        "--skip-phase",
        "SEEDING",
        "--seed-count",
        "200",
        "--approval-timeout",
        "30",
        "--wait-lock",
        "2.5",
    ]
    assert deploy_options(DeployFlags(only_phase="SEEDING", seed_count=0)) == [
        "--only-phase",
        "SEEDING",
        "--seed-count",
        "0",
    ]


def test_children_act_on_the_parents_home_and_environment(tmp_path: Path):
    options = GlobalOptions(home=tmp_path, env="production", color=False)

    assert global_options(options) == ["--home", str(tmp_path), "--env", "production", "--no-color"]


def test_planned_jobs_know_their_event_log_before_they_start(tmp_path: Path):
    first, second = plan_jobs(["fra", "deu"], tmp_path, ["--skip-federation"])

    assert first.event_log == run_log_path(tmp_path, "fra", first.run_id)
    assert first.run_id != second.run_id
    assert first.argv[-3:] == ("--run-id", first.run_id, "--skip-federation")


def test_all_selects_only_spokes_with_recorded_runs(sessions: sessionmaker[Session]):
    with sessions() as session:
        for run_id, code in ((RUN_ID, "fra"), ("20260101T000001Z-abcdef", "usa"), ("20260101T000002Z-abcdef", "alb")):
            insert_run(
                session,
                run_id=run_id,
                code=code,
                command=f"spoke deploy {code}",
                kind="full",
                args={},
                plan=[],
                event_log="",
            )
        assert spokes_with_history(session) == ["alb", "fra"]


def test_federated_deploy_all_is_refused_until_the_hub_is_complete(sessions: sessionmaker[Session]):
    with sessions() as session:
        with pytest.raises(PreconditionError, match=r"hub is not COMPLETE \(state UNKNOWN\).*--skip-federation"):
            refuse_unfederatable(session)
        for state in ("INITIALIZING", "VERIFYING", "COMPLETE"):
            transition(session, "usa", state, run_id=None, reason="test")
        refuse_unfederatable(session)


def _fold(*events: dict[str, object]) -> ChildProgress:
    progress = ChildProgress("fra")
    for event in events:
        progress.apply(event)
    return progress


def test_a_failed_run_is_folded_into_its_phase_error_and_final_state():
    progress = _fold(
        {"event": "run_started"},
        {"event": "phase_started", "phase": "DEPLOYMENT"},
        {"event": "phase_failed", "phase": "DEPLOYMENT", "data": {"error_code": "X", "message": "api unhealthy"}},
        {"event": "state_changed", "data": {"to": "FAILED"}},
        {"event": "run_finished", "data": {"outcome": "FAILED", "final_state": "FAILED"}},
    )

    assert (progress.failed_phase, progress.error) == ("DEPLOYMENT", "api unhealthy")
    assert (progress.outcome, progress.final_state) == ("FAILED", "FAILED")
    assert outcome_message(progress, "State: FAILED. Fix the cause\n", 1) == "api unhealthy"


def test_a_cancelled_run_names_the_phase_it_was_cancelled_in():
    progress = _fold(
        {"event": "phase_started", "phase": "SEEDING"},
        {"event": "substep", "phase": "SEEDING", "message": "250/6,000 documents"},
        {"event": "state_changed", "data": {"to": "FAILED"}},
    )

    assert progress.failed_phase == "SEEDING"
    assert outcome_message(progress, "Cancelled.\n", 130) == "cancelled during SEEDING"


@pytest.mark.parametrize(
    ("output", "exit_code", "message"),
    [
        (
            "✗ FRA is being deployed by another process\n  Remediation: wait\n",
            2,
            "FRA is being deployed by another process",
        ),
        ("Spoke FRA is COMPLETE in 3.0 s.\n", 0, "Spoke FRA is COMPLETE in 3.0 s."),
        ("", 1, "exit status 1"),
        ("", -9, "killed by signal 9"),
        ("", None, "not started (cancelled)"),
    ],
)
def test_a_child_without_a_phase_error_is_described_by_its_own_output(output: str, exit_code: int | None, message: str):
    assert outcome_message(ChildProgress("fra"), output, exit_code) == message


@pytest.mark.parametrize(
    ("codes", "cancelled", "expected"),
    [([0, 0, 0], False, 0), ([0, 1, 0], False, 1), ([0, 2], False, 1), ([0, None], False, 1), ([0, 130], True, 130)],
)
def test_exit_is_0_only_when_every_child_exited_0(codes: list[int | None], cancelled: bool, expected: int):
    assert overall_exit_code(codes, cancelled=cancelled) == expected


_FAKE_DEPLOY = """
import json, sys
path, code, outcome, status = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
events = [
    {"event": "run_started"},
    {"event": "phase_started", "phase": "PREFLIGHT"},
    {"event": "phase_failed" if status else "phase_completed", "phase": "PREFLIGHT", "data": {"message": "no disk"}},
    {"event": "run_finished", "data": {"outcome": outcome, "final_state": "FAILED" if status else "COMPLETE"}},
]
if outcome != "REFUSED":
    with open(path, "w") as log:
        log.write("".join(json.dumps(e) + "\\n" for e in events))
print(f"{code} finished" if not status else f"✗ {code} refused", flush=True)
sys.exit(status)
"""


def _fake_job(tmp_path: Path, code: str, outcome: str, status: int) -> SpokeJob:
    log = tmp_path / f"{code}.jsonl"
    argv = (sys.executable, "-c", _FAKE_DEPLOY, str(log), code, outcome, str(status))
    return SpokeJob(code=code, run_id=f"run-{code}", argv=argv, event_log=log)


def test_fan_out_keeps_at_most_parallel_children_and_reports_each_in_the_given_order(tmp_path: Path):
    jobs = [
        _fake_job(tmp_path, "fra", "SUCCEEDED", 0),
        _fake_job(tmp_path, "deu", "FAILED", 1),
        _fake_job(tmp_path, "alb", "REFUSED", 2),
    ]
    snapshots: list[list[ProgressRow]] = []

    report = run_deploy_all(jobs, parallel=2, environ={}, display=snapshots.append)

    finished = ("✓", "✗", "not started")
    running = [[row for row in rows if row[2] is not None and not row[3].startswith(finished)] for rows in snapshots]
    assert max(len(rows) for rows in running) <= 2
    assert [(r.code, r.exit_code, r.final_state) for r in report.results] == [
        ("fra", 0, "COMPLETE"),
        ("deu", 1, "FAILED"),
        ("alb", 2, None),
    ]
    assert [r.message for r in report.results] == ["fra finished", "no disk", "alb refused"]
    assert report.results[1].failed_phase == "PREFLIGHT"
    assert report.exit_code == 1


def test_summary_document_lists_every_spoke_with_its_run_and_outcome(tmp_path: Path):
    report = run_deploy_all(
        [_fake_job(tmp_path, "fra", "SUCCEEDED", 0)], parallel=1, environ={}, display=lambda _rows: None
    )
    document = summary_document(report)

    assert json.loads(json.dumps(document))["schema"] == "dive.deploy-all/1"
    assert document["exit_code"] == 0 and document["cancelled"] is False
    [spoke] = document["spokes"]  # type: ignore[misc]
    assert spoke["code"] == "FRA" and spoke["run_id"] == "run-fra" and spoke["outcome"] == "SUCCEEDED"


def _invoke(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--home", str(home), *args], env={"DIVE_DATABASE_URL": "", "DIVE_ENV": ""})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name the spokes (dive spoke deploy-all FRA DEU) or pass --all"),
        (("fra", "--all"), "give spoke codes or --all, not both"),
        (("--all", "--skip-federation"), "--all: no spoke has deployment history"),
        (("fra",), "the hub is not deployed: deploy it first (dive hub deploy) or pass --skip-federation"),
        (("fra", "--only-phase", "SEEDING", "--resume"), "--only-phase excludes"),
    ],
)
def test_deploy_all_refuses_before_starting_any_child(dive_home: Path, args: tuple[str, ...], message: str):
    result = _invoke(dive_home, "spoke", "deploy-all", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert not (dive_home / "instances").exists()


def test_clean_locks_on_a_fresh_home_has_nothing_to_do_and_force_needs_a_yes(dive_home: Path):
    clean = _invoke(dive_home, "spoke", "clean-locks")
    forced = _invoke(dive_home, "spoke", "clean-locks", "fra", "--force")

    assert (clean.exit_code, clean.stdout) == (0, "No deploy lock is recorded.\n")
    assert forced.exit_code == 2 and "confirm with dive --yes spoke clean-locks --force" in forced.stderr
