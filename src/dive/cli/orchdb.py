"""`dive orch-db status|validate|history|migrate` (spec/orchestration.md §2.2, §5.5): the orchestration database."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dive import catalog
from dive.orchestration.database import open_orchestration_db, orchestration_url
from dive.orchestration.errors import OrchestrationError, UsageError
from dive.orchestration.events import iso_z
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.orchestration.locks import acquire_deploy_lock, read_holder
from dive.orchestration.recovery import recover_instance
from dive.orchestration.states import ACTIVE_STATES, current_state
from dive.store import SchemaStatus, StoreError, safe_url, writer_session_factory
from dive.store.models.orchestration import (
    CircuitBreaker,
    DeploymentLock,
    DeploymentState,
    ErrorRecord,
    PipelineRun,
    StateTransition,
)

__all__ = ["app"]

app = typer.Typer(help="The orchestration database: state, history, locks, migrations.", no_args_is_help=True)

T = TypeVar("T")


def _with_db(context: typer.Context, body: Callable[[GlobalOptions, Engine, SchemaStatus], T]) -> T:
    """Open (create, migrate) the orchestration DB, run `body`, and turn failures into exit codes."""
    options = options_of(context)
    try:
        engine, schema = open_orchestration_db(options.home, os.environ)
    except StoreError as exc:
        exit_with(_as_orchestration_error(exc), as_json=options.json)
    try:
        return body(options, engine, schema)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    finally:
        engine.dispose()


def _as_orchestration_error(exc: StoreError) -> OrchestrationError:
    error = OrchestrationError(exc.message, exc.detail)
    error.code = exc.code  # type: ignore[misc]  # keep the store's stable code (db_unavailable, …)
    return error


def _print(options: GlobalOptions, document: dict[str, object], human: Callable[[Console], None]) -> None:
    if options.json:
        typer.echo(json.dumps(document, default=str))
    else:
        human(Console(no_color=not options.color, highlight=False))


def _instances(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(DeploymentState.instance_code).distinct())))


@app.command("status")
def status_command(context: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """DB URL, schema head, table count, states, held locks, open errors, open breakers, run count."""

    def body(options: GlobalOptions, engine: Engine, schema: SchemaStatus) -> None:
        with writer_session_factory(engine)() as session:
            states = {code: current_state(session, code).state for code in _instances(session)}
            locks = session.scalars(select(DeploymentLock).where(DeploymentLock.released_at.is_(None))).all()
            errors = session.scalar(select(func.count()).where(ErrorRecord.resolved.is_(False))) or 0
            breakers = session.scalars(select(CircuitBreaker.name).where(CircuitBreaker.state != "CLOSED")).all()
            runs = session.scalar(select(func.count()).select_from(PipelineRun)) or 0
        document = {
            "schema": "dive.orch-db.status/1",
            "url_redacted": safe_url(orchestration_url(options.home, os.environ)),
            "reachable": True,
            "revision": schema.revision,
            "head": schema.head,
            "tables": schema.table_count,
            "states": {code.upper(): state for code, state in states.items()},
            "held_locks": [
                {
                    "lock": lock.lock_name,
                    "holder_pid": lock.holder_pid,
                    "host": lock.holder_host,
                    "run_id": lock.run_id,
                    "acquired_at": iso_z(lock.acquired_at),
                }
                for lock in locks
            ],
            "open_errors": errors,
            "open_breakers": list(breakers),
            "runs": runs,
        }

        def human(console: Console) -> None:
            console.print(
                f"orchestration DB {document['url_redacted']} · schema {schema.revision} "
                f"({schema.table_count} tables) · {runs} runs · {errors} open errors"
            )
            for code, state in document["states"].items():  # type: ignore[union-attr]
                console.print(f"  {code}  {state}")
            for lock in document["held_locks"]:  # type: ignore[union-attr]
                console.print(f"  lock {lock['lock']} held by pid {lock['holder_pid']} (run {lock['run_id']})")
            for name in breakers:
                console.print(f"  circuit {name} is open")

        _print(options, document, human)

    if as_json:
        _json_context(context)
    _with_db(context, body)


def _json_context(context: typer.Context) -> None:
    """`--json` may come after the command (§2.1): the root's options then gain it."""
    context.find_root().obj = replace(options_of(context), json=True)


@app.command("history")
def history_command(
    context: typer.Context,
    code: str = typer.Argument(..., help="Instance code, e.g. FRA or hub."),
    limit: int = typer.Option(20, "-n", min=1, help="How many transitions, newest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Accepted and rejected state transitions of an instance."""
    if as_json:
        _json_context(context)
    instance = _code(context, code)

    def body(options: GlobalOptions, engine: Engine, _schema: SchemaStatus) -> None:
        with writer_session_factory(engine)() as session:
            rows = session.scalars(
                select(StateTransition)
                .where(StateTransition.instance_code == instance)
                .order_by(StateTransition.id.desc())
                .limit(limit)
            ).all()
        items = [
            {
                "at": iso_z(row.created_at),
                "from": row.from_state,
                "to": row.to_state,
                "accepted": row.accepted,
                "reason": row.reason,
                "rejection": row.rejection,
                "run_id": row.run_id,
            }
            for row in rows
        ]

        def human(console: Console) -> None:
            table = Table("at", "from", "to", "result", "reason")
            for item in items:
                result = "accepted" if item["accepted"] else f"rejected: {item['rejection']}"
                table.add_row(str(item["at"]), str(item["from"]), str(item["to"]), result, str(item["reason"] or ""))
            console.print(table)

        _print(options, {"schema": "dive.orch-db.history/1", "instance": instance.upper(), "transitions": items}, human)

    _with_db(context, body)


@app.command("migrate")
def migrate_command(context: typer.Context) -> None:
    """Apply schema migrations to the orchestration database (instance databases migrate with their deploys)."""

    def body(options: GlobalOptions, engine: Engine, schema: SchemaStatus) -> None:
        verb = f"migrated from {schema.previous_revision or 'empty'}" if schema.migrated else "already"
        typer.echo(f"orchestration DB {verb} at {schema.revision} ({schema.table_count} tables)")

    _with_db(context, body)


@app.command("validate")
def validate_command(
    context: typer.Context,
    code: str | None = typer.Argument(None, help="Instance code (default: every recorded instance)."),
    repair: bool = typer.Option(False, "--repair", help="Recover interrupted instances (state → FAILED)."),
) -> None:
    """Compare recorded states with live lock holders (§5.5): an active state without a live holder is interrupted."""
    selected = _code(context, code) if code else None

    def body(options: GlobalOptions, engine: Engine, _schema: SchemaStatus) -> None:
        sessions = writer_session_factory(engine)
        with sessions() as session:
            instances = [selected] if selected else _instances(session)
            states = {instance: current_state(session, instance).state for instance in instances}
        disagreements = 0
        for instance, state in states.items():
            holder = read_holder(engine, options.home, instance)
            live = holder is not None and holder.is_alive()
            if state not in ACTIVE_STATES or live:
                typer.echo(f"{instance.upper()}  {state}  ok")
                continue
            if repair:
                with acquire_deploy_lock(engine, options.home, instance, run_id=None, command="orch-db validate"):
                    recover_instance(sessions, instance, run_id=None)
                typer.echo(f"{instance.upper()}  {state}  interrupted → repaired (FAILED)")
            else:
                disagreements += 1
                typer.echo(f"{instance.upper()}  {state}  interrupted: no live lock holder (repair: --repair)")
        if disagreements:
            raise typer.Exit(1)

    _with_db(context, body)


def _code(context: typer.Context, text: str) -> str:
    try:
        code = catalog.normalize_code(text)
    except catalog.CatalogError as exc:
        exit_with(UsageError(str(exc)), as_json=options_of(context).json)
    default = options_of(context).instance
    if default is not None and default != code:
        exit_with(
            UsageError(f"--instance {default.upper()} differs from {code.upper()}"), as_json=options_of(context).json
        )
    return code
