"""Remote spokes (orchestration Amendment A1; CONSISTENCY #13): `dive spoke authorize|revoke-authorization CODE` on
the hub host, `dive spoke federate CODE`, and the `--hub-url/--hub-ca/--enrolment-token-file` flags of
`spoke deploy`. The enrolment token is written to the hub's instance database (hashed) by the CLI on the hub host,
like every other registry change made there; it is shown once and never logged."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import typer

from dive import catalog
from dive.api import issue_enrolment_token, revoke_enrolment_tokens
from dive.api.errors import InvalidRequestError
from dive.cli.instance_commands import DeployFlags, deploy_environment, require_deployed, run_operation, spoke_code
from dive.federation import LocalFederation
from dive.federation.records import instance_session
from dive.federation.remote import (
    ENROLMENT_TOKEN_FILE_ENV,
    HUB_CA_FILE_ENV,
    HUB_URL_ENV,
    normalize_hub_url,
    parse_ttl,
    read_ca_pem,
    read_enrolment_token,
    trusted_ca_path,
)
from dive.orchestration.deploy import instance_facts
from dive.orchestration.deploy.remote import federation_check, run_federation
from dive.orchestration.errors import OrchestrationError, PreconditionError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.orchestration.phases import Check, Phase
from dive.orchestration.pipeline import PhaseContext

__all__ = [
    "HUB_CA_OPTION",
    "HUB_URL_OPTION",
    "TOKEN_FILE_OPTION",
    "authorize_command",
    "federate_command",
    "remote_hub_environment",
    "revoke_authorization_command",
]

HUB_URL_OPTION = typer.Option(None, "--hub-url", help="The remote hub's api URL, e.g. https://hub.example:4000.")
HUB_CA_OPTION = typer.Option(None, "--hub-ca", help="The remote hub's CA bundle (PEM), trusted as pki/trusted/usa.pem.")
TOKEN_FILE_OPTION = typer.Option(
    None, "--enrolment-token-file", help="The enrolment token from `dive spoke authorize CODE --out FILE` on the hub."
)
_CODE = typer.Argument(None, help="Instance code, e.g. FRA (default: --instance).")


def _hub_database(options: GlobalOptions) -> str:
    """The hub's instance database of this home; exit 2 when the hub is not deployed here."""
    fed = LocalFederation(options.home, os.environ)
    if not fed.has_database(catalog.HUB):
        exit_with(
            PreconditionError(
                f"the hub is not deployed under {options.home}; run this on the hub host", remediation="dive hub deploy"
            ),
            as_json=options.json,
        )
    return fed.database_url(catalog.HUB)


def authorize_command(
    context: typer.Context,
    code: str | None = _CODE,
    ttl: str = typer.Option("72h", "--ttl", help="Lifetime: seconds or 30m, 72h, 2d (at most 30 days)."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="The registration is approved without review."),
    out: Path | None = typer.Option(None, "--out", help="Write the token to this new file (0600) instead of stdout."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Issue a single-use enrolment token for one spoke on another host (run on the hub host)."""
    options = options_of(context)
    json_mode = options.json or as_json
    spoke = spoke_code(options, code)
    try:
        ttl_s = parse_ttl(ttl)
    except ValueError as exc:
        exit_with(UsageError(str(exc)), as_json=json_mode)
    if out is not None and (out.exists() or not out.parent.is_dir()):
        problem = "exists; choose a new file" if out.exists() else "is in a directory that does not exist"
        exit_with(UsageError(f"--out {out} {problem}"), as_json=json_mode)
    database = _hub_database(options)
    try:
        with instance_session(database) as session:
            token = issue_enrolment_token(session, spoke, ttl_s=ttl_s, auto_approve=auto_approve)
    except InvalidRequestError as exc:
        exit_with(UsageError(exc.message), as_json=json_mode)
    if out is not None:
        _write_secret_file(out, token)
    expires = (datetime.now(UTC) + timedelta(seconds=ttl_s)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if json_mode:
        document: dict[str, object] = {
            "schema": "dive.spoke.authorization/1",
            "instance": spoke.upper(),
            "expires_at": expires,
            "auto_approve": auto_approve,
            "single_use": True,
        }
        document |= {"token_file": str(out.absolute())} if out is not None else {"token": token}
        typer.echo(json.dumps(document))
        return
    approval = "approved on registration" if auto_approve else f"pending until: dive federation approve {spoke.upper()}"
    if out is None:
        typer.echo(token)
    where = f"written to {out} (0600)" if out is not None else "printed above; it is not shown again"
    print(f"Enrolment token for {spoke.upper()} {where}; single use, expires {expires}; {approval}.", file=sys.stderr)
    print(f"On the spoke host: dive spoke deploy {spoke} --hub-url URL --hub-ca FILE --enrolment-token-file FILE",
          file=sys.stderr)  # fmt: skip


def _write_secret_file(path: Path, token: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token + "\n")


def revoke_authorization_command(context: typer.Context, code: str | None = _CODE) -> None:
    """Revoke every unused enrolment token of a spoke (run on the hub host)."""
    options = options_of(context)
    spoke = spoke_code(options, code)
    with instance_session(_hub_database(options)) as session:
        revoked = revoke_enrolment_tokens(session, spoke)
    noun = "token" if revoked == 1 else "tokens"
    typer.echo(f"{spoke.upper()}: {revoked} unused enrolment {noun} revoked")


def remote_hub_environment(
    options: GlobalOptions,
    code: str,
    *,
    hub_url: str | None,
    hub_ca: Path | None,
    token_file: Path | None,
    skip_federation: bool = False,
) -> dict[str, str]:
    """Check the remote-hub flags before any run (exit 2 naming the flag) and return the variables that carry
    them to the run: `DIVE_HUB_URL`, `DIVE_HUB_CA_FILE`, `DIVE_ENROLMENT_TOKEN_FILE`."""
    flags = [name for name, value in (("--hub-url", hub_url), ("--hub-ca", hub_ca),
                                      ("--enrolment-token-file", token_file)) if value is not None]  # fmt: skip
    if skip_federation and flags:
        _refuse(options, f"--skip-federation deploys standalone; it excludes {', '.join(flags)}")
    url = hub_url or os.environ.get(HUB_URL_ENV)
    if not url:
        if flags:
            _refuse(options, f"{' and '.join(flags)} need --hub-url (the remote hub's api URL)")
        return {}
    if (options.home / "instances" / catalog.HUB).is_dir():
        if flags:
            _refuse(options, f"the hub is deployed in this DIVE_HOME ({options.home}); omit {', '.join(flags)}")
        return {}
    try:
        environment = {HUB_URL_ENV: normalize_hub_url(url)}
        if token_file is not None:
            read_enrolment_token(token_file)
            environment[ENROLMENT_TOKEN_FILE_ENV] = str(token_file.absolute())
        if hub_ca is not None:
            read_ca_pem(hub_ca)
            environment[HUB_CA_FILE_ENV] = str(hub_ca.absolute())
    except ValueError as exc:
        _refuse(options, str(exc))
    enrolled = LocalFederation(options.home, os.environ).keystore.get(f"{code}/spoke-token") is not None
    if token_file is None and not enrolled:
        _refuse(
            options, f"--hub-url needs --enrolment-token-file FILE (on the hub: dive spoke authorize {code} --out FILE)"
        )
    if hub_ca is None and not trusted_ca_path(options.home, catalog.HUB).exists():
        _refuse(options, "--hub-url needs --hub-ca FILE (the hub's pki/bundle.pem) until the hub's CA is trusted here")
    return environment


def _refuse(options: GlobalOptions, message: str) -> NoReturn:
    exit_with(UsageError(message), as_json=options.json)


def federate_command(
    context: typer.Context,
    code: str | None = _CODE,
    hub_url: str | None = HUB_URL_OPTION,
    hub_ca: Path | None = HUB_CA_OPTION,
    enrolment_token_file: Path | None = TOKEN_FILE_OPTION,
    approval_timeout: float = typer.Option(
        0.0, "--approval-timeout", min=0, help="Poll a pending registration every 5 s for up to S seconds."
    ),
) -> None:
    """Federate a deployed spoke (C3–C8 of CONFIGURATION, ending with federation verify) as an operation run."""
    options = options_of(context)
    spoke = spoke_code(options, code)
    os.environ.update(
        remote_hub_environment(options, spoke, hub_url=hub_url, hub_ca=hub_ca, token_file=enrolment_token_file)
    )
    require_deployed(options, spoke)
    environ = deploy_environment(options, DeployFlags(approval_timeout_s=approval_timeout or None))
    try:
        result = run_operation(options, spoke, f"spoke federate {spoke}", _federation_phase(), environ)
    except OrchestrationError as exc:
        exit_with(exc, as_json=options.json)
    typer.echo(result.steps[-1].summary if result.steps and result.exit_code == 0 else result.message)
    raise typer.Exit(result.exit_code)


def _federation_phase() -> Phase:
    """CONFIGURATION restricted to its federation sub-steps; C8 is `federation verify` with backoff."""

    def run(context: PhaseContext) -> str:
        return run_federation(instance_facts(context.home, context.code, context.environ), context.substep)

    def complete(context: PhaseContext) -> Check:
        return federation_check(instance_facts(context.home, context.code, context.environ))

    def plan(context: PhaseContext) -> list[str]:
        code = context.code.upper()
        return [f"register {code} at the hub, sync the registry and KAS registry, verify USA ⇄ {code}"]

    return Phase(name="CONFIGURATION", title="Federation with the hub", state="CONFIGURING", budget_s=300,
                 run=run, is_complete=complete, plan=plan)  # fmt: skip
