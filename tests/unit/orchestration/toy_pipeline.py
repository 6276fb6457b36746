"""A small real pipeline for driver tests: each phase writes `<home>/toy/<PHASE>.done`, and its live check looks
for that file. Files steer a phase: `<PHASE>.fail` makes it raise, `<PHASE>.noop` makes it do nothing, `<PHASE>.hang`
makes it wait at cancellation points until cancelled.

Run as a script (`python toy_pipeline.py URL HOME CODE [--resume]`) it deploys once and exits with the run's code.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from dive.orchestration.errors import OrchestrationError, PhaseError
from dive.orchestration.phases import Check, Phase, select_phases
from dive.orchestration.pipeline import PhaseContext, Pipeline, RunRequest
from dive.store import create_engine_for


def _marker(context: PhaseContext, suffix: str) -> Path:
    assert context.phase is not None
    return context.home / "toy" / f"{context.phase.name}.{suffix}"


def _run(context: PhaseContext) -> str:
    if _marker(context, "fail").exists():
        raise PhaseError("toy_failed", f"{context.phase.name if context.phase else '?'} was told to fail")
    while _marker(context, "hang").exists():
        context.check_cancelled()
        time.sleep(0.05)
    if _marker(context, "noop").exists():
        return "did nothing"
    done = _marker(context, "done")
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text("done")
    if context.phase is not None and "after_marker" in context.phase.crash_points:
        context.crash_point("after_marker")
    return "marker written"


def _is_complete(context: PhaseContext) -> Check:
    done = _marker(context, "done").exists()
    return Check(done, "marker present" if done else "marker missing")


def _plan(context: PhaseContext) -> list[str]:
    return [f"write {_marker(context, 'done').name}"]


def toy_phases(*, budget_s: float = 30.0) -> list[Phase]:
    def phase(name: str, state: str, **flags: object) -> Phase:
        return Phase(
            name=name,
            title=name.title(),
            state=state,
            budget_s=budget_s,
            run=_run,
            is_complete=_is_complete,
            plan=_plan,
            **flags,
        )  # type: ignore[arg-type]

    return [
        phase("PREFLIGHT", "INITIALIZING", always_runs=True),
        phase("INITIALIZATION", "INITIALIZING", crash_points=("after_marker",)),
        phase("DATABASE", "DEPLOYING"),
        phase("CONFIGURATION", "CONFIGURING"),
        phase("SEEDING", "CONFIGURING", fatal=False, optional=True),
        phase("VERIFICATION", "VERIFYING", always_runs=True),
    ]


def toy_request(code: str = "fra", **selection: object) -> RunRequest:
    chosen = select_phases(toy_phases(), **selection)  # type: ignore[arg-type]
    return RunRequest(pipeline="spoke", command=f"spoke deploy {code}", code=code, selection=chosen)


def main(url: str, home: str, code: str, *flags: str) -> int:
    engine = create_engine_for(url)
    pipeline = Pipeline(toy_phases(), home=Path(home), engine=engine, environ=dict(os.environ))
    try:
        return pipeline.run(toy_request(code, resume="--resume" in flags)).exit_code
    except OrchestrationError as exc:
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
