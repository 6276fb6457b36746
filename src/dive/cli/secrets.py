"""`dive secrets list|ensure|get|set|rotate|load` (spec/orchestration.md §9). Values are shown only with
`--reveal` (on a TTY or with `--yes`); errors name the secret, never its value."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import typer

from dive import catalog
from dive.cli.instance_commands import deploy_environment, lifecycle_phase, run_operation
from dive.orchestration.deploy import InstanceFacts, instance_facts
from dive.orchestration.deploy.inventory import known_instances, open_existing_orchestration_db
from dive.orchestration.deploy.rotation import rotate_secret
from dive.orchestration.deploy.services import run_services
from dive.orchestration.deploy.setup import write_config
from dive.orchestration.errors import OrchestrationError, PhaseError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.secrets import LocalKeystore, SecretsError
from dive.secrets.generation import ensure_secrets, validate_secret

__all__ = ["app", "secret_path"]

app = typer.Typer(help="Secrets of the deployment: list, ensure, get, set, rotate, load.", no_args_is_help=True)

_FULL_PREFIXES = ("_shared/", "_federation/", "kas/")


def secret_path(options: GlobalOptions, name: str) -> str:
    """A full path (`_shared/…`, `_federation/…`, `kas/…`, `<c>/…`) as is; otherwise relative to the instance."""
    first = name.split("/", 1)[0]
    if name.startswith(_FULL_PREFIXES) or ("/" in name and (options.home / "instances" / first).is_dir()):
        return name
    return f"{options.instance or catalog.HUB}/{name}"


def _fail(exc: SecretsError | OrchestrationError, options: GlobalOptions) -> None:
    if isinstance(exc, OrchestrationError):
        exit_with(exc, as_json=options.json)
    error = PhaseError(exc.code, exc.message)
    exit_with(error, as_json=options.json)


@app.command("list")
def list_command(context: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Paths with created/rotated times; never values."""
    options = options_of(context)
    metas = LocalKeystore(options.home).list()
    if options.json or as_json:
        rows = [
            {
                "path": m.path,
                "created_at": m.created_at.isoformat(),
                "rotated_at": m.rotated_at.isoformat() if m.rotated_at else None,
            }
            for m in metas
        ]
        typer.echo(json.dumps({"schema": "dive.secrets/1", "secrets": rows}))
        return
    for meta in metas:
        rotated = f"  rotated {meta.rotated_at:%Y-%m-%d %H:%M}" if meta.rotated_at else ""
        typer.echo(f"{meta.path:<45} created {meta.created_at:%Y-%m-%d %H:%M}{rotated}")


@app.command("ensure")
def ensure_command(context: typer.Context) -> None:
    """Generate the missing secrets of --instance (default: every known instance); never overwrites."""
    options = options_of(context)
    environ = deploy_environment(options)
    if options.instance:
        codes = [options.instance]
    else:
        engine = open_existing_orchestration_db(options.home, environ)
        codes = known_instances(options.home, engine) or [catalog.HUB]
        if engine is not None:
            engine.dispose()
    try:
        for code in codes:
            facts = instance_facts(options.home, code, environ)
            created = ensure_secrets(facts.secrets, facts.secret_specs)
            typer.echo(f"{facts.display}: {len(created)} secrets generated, {len(facts.secret_specs)} present")
    except SecretsError as exc:
        _fail(exc, options)


@app.command("get")
def get_command(
    context: typer.Context,
    name: str = typer.Argument(..., help="`app-client-secret` (of --instance) or a full path."),
    reveal: bool = typer.Option(False, "--reveal", help="Print the value (needs a TTY or --yes)."),
) -> None:
    """Print a secret, masked unless --reveal."""
    options = options_of(context)
    path = secret_path(options, name)
    try:
        value = LocalKeystore(options.home).get(path)
    except SecretsError as exc:
        _fail(exc, options)
    if value is None:
        exit_with(UsageError(f"secret {path} does not exist; `dive secrets list` shows the paths"), as_json=False)
    if reveal and not (sys.stdout.isatty() or options.yes):
        exit_with(UsageError("--reveal prints a secret: run it on a terminal, or add --yes"), as_json=False)
    typer.echo(value if reveal else f"{value[:2]}…{value[-2:]} ({len(value)} chars)")


@app.command("set")
def set_command(
    context: typer.Context,
    name: str = typer.Argument(..., help="`app-client-secret` (of --instance) or a full path."),
    value: str | None = typer.Option(None, "--value", help="The new value."),
    stdin: bool = typer.Option(False, "--stdin", help="Read the value from standard input."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing value."),
) -> None:
    """Store a value; placeholders and weak values are refused (exit 1)."""
    options = options_of(context)
    if (value is None) == (not stdin):
        exit_with(UsageError("give exactly one of --value V or --stdin"), as_json=options.json)
    text = sys.stdin.read().strip() if stdin else str(value)
    path = secret_path(options, name)
    try:
        kind = "token" if path.endswith(("-secret", "-key")) else "password"
        validate_secret(path, text, kind)
        LocalKeystore(options.home).put(path, text, overwrite=force)
    except SecretsError as exc:
        _fail(exc, options)
    typer.echo(f"secret {path} stored")


@app.command("rotate")
def rotate_command(
    context: typer.Context,
    name: str = typer.Argument(..., help="e.g. app-client-secret, test-user-password"),
    no_apply: bool = typer.Option(False, "--no-apply", help="Store the new value only."),
) -> None:
    """Generate a new value and apply it: the idp's copy, then restart the services that receive it."""
    options = options_of(context)
    code = options.instance or catalog.HUB
    environ = deploy_environment(options)
    try:
        path = rotate_secret(instance_facts(options.home, code, environ), name, apply=not no_apply)
    except (OrchestrationError, SecretsError) as exc:
        _fail(exc, options)
    typer.echo(f"secret {path} rotated")
    if not no_apply:
        _load(options, code, "secrets rotate")


@app.command("load")
def load_command(context: typer.Context) -> None:
    """Validate the instance's secrets, re-render its programs and restart those whose environment changed."""
    options = options_of(context)
    if options.instance is None:
        exit_with(UsageError("secrets load needs --instance CODE: dive --instance fra secrets load"), as_json=False)
    _load(options, options.instance, "secrets load")


def _render_and_apply(facts: InstanceFacts) -> str:
    """§9.4 steps 3–4: the same render as INITIALIZATION, then the SERVICES apply (a changed group restarts)."""
    write_config(facts)
    return run_services(facts)


def _load(options: GlobalOptions, code: str, command: str) -> None:
    facts = instance_facts(options.home, code, deploy_environment(options))
    try:
        for spec in facts.secret_specs:
            validate_secret(spec.path, facts.secrets.get(spec.path), spec.kind)
    except SecretsError as exc:
        _fail(exc, options)
    phase = lifecycle_phase("SERVICES" if facts.is_hub else "DEPLOYMENT", "load secrets", _render_and_apply)
    try:
        result = run_operation(replace(options, quiet=True), code, command, phase, deploy_environment(options))
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    typer.echo(f"{facts.display}: {result.message if result.exit_code else 'services re-rendered and healthy'}")
    raise typer.Exit(result.exit_code)
