"""The hub pipeline (spec/orchestration.md §4.3) and the spoke pipeline (§4.4: CONFIGURATION is C1–C2, then the
federation sub-steps C3–C8 unless `--skip-federation`), each phase with its live `is_complete` checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dive.orchestration.deploy.checks import run_instance_checks
from dive.orchestration.deploy.identity import apply_identity, identity_plan
from dive.orchestration.deploy.idp_admin import IdpAdmin
from dive.orchestration.deploy.instance import InstanceFacts, instance_facts
from dive.orchestration.deploy.preflight import run_preflight
from dive.orchestration.deploy.remote import federation_check, hub_preflight, run_federation, verify_link
from dive.orchestration.deploy.seeding import crash_after_batch, run_seeding, seeding_check
from dive.orchestration.deploy.services import kas_check, run_kas, run_services, services_check
from dive.orchestration.deploy.setup import database_check, initialization_check, run_database, run_initialization
from dive.orchestration.errors import PhaseError
from dive.orchestration.phases import Check, Phase
from dive.orchestration.pipeline import PhaseContext

__all__ = ["HUB_PHASE_TARGETS_S", "SPOKE_PHASE_TARGETS_S", "hub_phases", "spoke_phases"]

# §13.4: indicative targets; a phase slower than twice its target is shown as `slow`.
HUB_PHASE_TARGETS_S: Final = {
    "PREFLIGHT": 2,
    "INITIALIZATION": 3,
    "DATABASE": 2,
    "SERVICES": 8,
    "IDENTITY": 5,
    "KAS": 2,
    "SEEDING": 30,
    "VERIFICATION": 5,
}
SPOKE_PHASE_TARGETS_S: Final = {
    "PREFLIGHT": 2,
    "INITIALIZATION": 3,
    "DEPLOYMENT": 10,
    "CONFIGURATION": 10,
    "SEEDING": 20,
    "VERIFICATION": 5,
}

Step = Callable[[InstanceFacts], str | None]
Probe = Callable[[InstanceFacts], Check]


def _facts(context: PhaseContext) -> InstanceFacts:
    return instance_facts(context.home, context.code, context.environ)


def _run(step: Step) -> Callable[[PhaseContext], str | None]:
    return lambda context: step(_facts(context))


def _complete(probe: Probe) -> Callable[[PhaseContext], Check]:
    return lambda context: probe(_facts(context))


def _plan(*lines: str) -> Callable[[PhaseContext], list[str]]:
    return lambda context: [line.format(code=context.code, CODE=context.code.upper()) for line in lines]


def _always(_context: PhaseContext) -> Check:
    return Check(True, "always runs")


def _identity(facts: InstanceFacts) -> str:
    with IdpAdmin(facts) as admin:
        changes = apply_identity(facts, admin)
    return f"realm {facts.realm}: {len(changes)} changes applied; {len(facts.accounts)} users"


def _identity_check(facts: InstanceFacts) -> Check:
    try:
        with IdpAdmin(facts) as admin:
            changes = identity_plan(facts, admin)
    except PhaseError as exc:
        return Check(False, exc.message)
    if changes:
        return Check(False, f"{len(changes)} changes pending: {', '.join(c.describe() for c in changes[:3])}")
    return Check(True, f"realm {facts.realm} matches the desired state")


def _identity_plan(context: PhaseContext) -> list[str]:
    facts = _facts(context)
    try:
        with IdpAdmin(facts) as admin:
            return [change.describe() for change in identity_plan(facts, admin)]
    except PhaseError as exc:
        return [f"apply the desired state of {facts.realm} (idp not answering: {exc.message})"]


def _seeding(context: PhaseContext) -> str:
    def progress(done: int, total: int) -> None:
        context.check_cancelled()
        context.substep(f"{done:,}/{total:,} documents", done=done, total=total, unit="documents")

    return run_seeding(_facts(context), on_batch=crash_after_batch(context.crash_point), progress=progress)


def _verification(context: PhaseContext) -> str:
    facts = _facts(context)
    summary = _instance_checks(facts)
    return f"{summary}; {verify_link(facts, context.substep)}" if facts.federated else summary


def _instance_checks(facts: InstanceFacts) -> str:
    results = run_instance_checks(facts)
    failed = [r for r in results if r.status == "fail"]
    counted = [r for r in results if r.status != "skip"]
    skipped = [r.id for r in results if r.status == "skip"]
    summary = f"Passed: {len(counted) - len(failed)}/{len(counted)} (skipped: {', '.join(skipped) or 'none'})"
    if failed:
        details = "; ".join(f"{r.id}: {r.detail}" for r in failed)
        raise PhaseError("verification_failed", f"{summary} — {details}", {"failed": [r.id for r in failed]})
    return summary


def _services_step(context: PhaseContext) -> str:
    summary = run_services(_facts(context))
    context.crash_point("after_services_started")
    return summary


def _deployment(context: PhaseContext) -> str:
    facts = _facts(context)
    database = run_database(facts)
    return f"{database}; {_services_step(context)}"


def _deployment_check(facts: InstanceFacts) -> Check:
    database = database_check(facts)
    return database if not database.ok else services_check(facts)


def _configuration(context: PhaseContext) -> str:
    facts = _facts(context)
    context.substep(f"C1 realm {facts.realm}")
    identity = _identity(facts)
    context.substep(f"C2 {facts.code}-kas")
    local = f"{identity}; {run_kas(facts)}"
    if not facts.federated:
        return f"{local}; federation: standalone"
    return f"{local}; {run_federation(facts, context.substep)}"


def _configuration_check(facts: InstanceFacts) -> Check:
    probes: tuple[Probe, ...] = (_identity_check, kas_check, federation_check)
    for probe in probes if facts.federated else probes[:2]:
        result = probe(facts)
        if not result.ok:
            break
    return result


def _configuration_plan(context: PhaseContext) -> list[str]:
    lines = _plan("apply the realm of {CODE} and its test users", "check the {code}-kas registration")(context)
    if _facts(context).federated:
        lines += _plan(
            "ensure the pair secret _federation/usa-{code} and both realm halves of the links",
            "register {CODE} and {code}-kas at the hub (auto-approved outside production)",
            "sync the hub record, federation matrix and KAS registry into {CODE}",
            "verify the federation USA ⇄ {CODE} with backoff",
        )(context)
    return lines


def _verification_plan(context: PhaseContext) -> list[str]:
    if _facts(context).federated:
        return _plan("run the instance checks of {CODE}", "federation verify {CODE} with backoff")(context)
    return _plan("run the instance checks of {CODE}")(context)


def _spoke_preflight(facts: InstanceFacts) -> str:
    local = run_preflight(facts)
    return f"{local}; {hub_preflight(facts)}" if facts.federated else local


def _preflight(step: Step = run_preflight) -> Phase:
    return Phase(
        name="PREFLIGHT",
        title="Preflight checks",
        state="INITIALIZING",
        budget_s=30,
        run=_run(step),
        is_complete=_always,
        plan=_plan("check Python, modules, DIVE_HOME, disk and ports"),
        always_runs=True,
    )


def _initialization() -> Phase:
    return Phase(
        name="INITIALIZATION",
        title="CA, certificates, secrets, config",
        state="INITIALIZING",
        budget_s=60,
        run=_run(run_initialization),
        is_complete=_complete(initialization_check),
        plan=_plan(
            "ensure the CA and 5 certificates", "ensure the secrets of {CODE}", "render instances/{code}/config.json"
        ),
    )


def _seeding_phase() -> Phase:
    return Phase(
        name="SEEDING",
        title="Seed ZTDF documents",
        state="CONFIGURING",
        budget_s=600,
        run=_seeding,
        is_complete=_complete(seeding_check),
        plan=_plan("seed the missing documents of {CODE}"),
        fatal=False,
        optional=True,
        crash_points=("after_batch_3",),
    )


def _verification_phase() -> Phase:
    return Phase(
        name="VERIFICATION",
        title="Instance checks",
        state="VERIFYING",
        budget_s=300,
        run=_verification,
        is_complete=_always,
        plan=_verification_plan,
        always_runs=True,
    )


def hub_phases() -> list[Phase]:
    return [
        _preflight(),
        _initialization(),
        Phase(
            name="DATABASE",
            title="Instance database",
            state="DEPLOYING",
            budget_s=120,
            run=_run(run_database),
            is_complete=_complete(database_check),
            plan=_plan("migrate the instance database of {CODE} to head", "ensure the active KAS key"),
        ),
        Phase(
            name="SERVICES",
            title="Services",
            state="DEPLOYING",
            budget_s=180,
            run=_services_step,
            is_complete=_complete(services_check),
            plan=_plan("start the {CODE} group health-gated"),
            crash_points=("after_services_started",),
        ),
        Phase(
            name="IDENTITY",
            title="Realm, clients, users",
            state="CONFIGURING",
            budget_s=120,
            run=_run(_identity),
            is_complete=_complete(_identity_check),
            plan=_identity_plan,
        ),
        Phase(
            name="KAS",
            title="KAS key served and registered",
            state="CONFIGURING",
            budget_s=60,
            run=_run(run_kas),
            is_complete=_complete(kas_check),
            plan=_plan("check that usa-kas serves its registered key"),
        ),
        _seeding_phase(),
        _verification_phase(),
    ]


def spoke_phases() -> list[Phase]:
    return [
        _preflight(_spoke_preflight),
        _initialization(),
        Phase(
            name="DEPLOYMENT",
            title="Database and services",
            state="DEPLOYING",
            budget_s=240,
            run=_deployment,
            is_complete=_complete(_deployment_check),
            plan=_plan("migrate the database of {CODE}", "start the {code} group health-gated"),
            crash_points=("after_services_started",),
        ),
        Phase(
            name="CONFIGURATION",
            title="Realm, users, KAS, federation",
            state="CONFIGURING",
            budget_s=300,
            run=_configuration,
            is_complete=_complete(_configuration_check),
            plan=_configuration_plan,
        ),
        _seeding_phase(),
        _verification_phase(),
    ]
