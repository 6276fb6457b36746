"""`dive federation status|list|verify|approve|suspend|revoke|link|unlink|migrate` (spec/orchestration.md §8, §11.2).

Commands run on the hub host: registry reads come from the hub's instance database, transitions go through the hub
api with the admin key of the local keystore, and link objects are written through each local idp's admin API."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final

import httpx
import typer
from sqlalchemy import select

from dive import catalog
from dive.federation import (
    FederationError,
    HubApi,
    HubCredential,
    LinkSide,
    LocalFederation,
    Partner,
    VerifyReport,
    WrongStateError,
    ensure_realm_half,
    legacy_registry_path,
    link_rows,
    migrate_legacy,
    pair_secret_path,
    parse_attempts,
    parse_schedule,
    remove_realm_half,
    set_link_rows,
    set_realm_half_enabled,
    verify_federation,
)
from dive.federation.legacy import MigrationResult
from dive.federation.records import instance_session
from dive.federation.remote_spokes import trust_remote_spoke
from dive.federation.verify import RETRY_HINT
from dive.orchestration.deploy.federation import local_verify_target
from dive.orchestration.errors import OrchestrationError, PhaseError, PreconditionError, UsageError
from dive.orchestration.invocation import GlobalOptions, exit_with, options_of
from dive.store import FederationRegistryRepository
from dive.store.models.kas import KasRegistryEntry
from dive.store.models.registry import LEGACY_IMPORT_KEY, FederationLink, FederationSpoke, RegistryMeta

__all__ = ["app"]

app = typer.Typer(help="Federation: registry, approval, identity-provider links, verification.", no_args_is_help=True)
HUB: Final = catalog.HUB
_STATUSES: Final = ("pending", "approved", "suspended", "revoked")
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@contextmanager
def _command(context: typer.Context, as_json: bool = False) -> Iterator[tuple[GlobalOptions, LocalFederation]]:
    """Global options and the local federation; every failure becomes a §2.1 error and exit status."""
    options = options_of(context)
    json_mode = options.json or as_json
    try:
        yield options, LocalFederation(options.home, os.environ)
    except WrongStateError as exc:
        exit_with(PreconditionError(exc.message, exc.detail, remediation=exc.remediation), as_json=json_mode)
    except FederationError as exc:
        exit_with(PhaseError(exc.code, exc.message, exc.detail, remediation=exc.remediation), as_json=json_mode)
    except (OrchestrationError, catalog.CatalogError, ValueError) as exc:
        error = exc if isinstance(exc, OrchestrationError) else UsageError(str(exc))
        exit_with(error, as_json=json_mode)


def _code(raw: str | None, options: GlobalOptions) -> str:
    code = catalog.normalize_code(raw) if raw else options.instance
    if code is None:
        raise UsageError("give an instance CODE (or --instance)")
    if options.instance and raw and code != options.instance:
        raise UsageError(f"CODE {code.upper()} differs from --instance {options.instance.upper()}")
    if code == HUB:
        raise UsageError("usa is the hub; give a spoke CODE")
    return code


def _hub_db(fed: LocalFederation) -> str:
    if not fed.has_database(HUB):
        raise PreconditionError("the hub is not deployed on this host", remediation="dive hub deploy")
    return fed.database_url(HUB)


def _emit(options: GlobalOptions, as_json: bool, document: object, human: Callable[[], None]) -> None:
    if options.json or as_json:
        typer.echo(json.dumps(document, default=str))
    else:
        human()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@app.command("status")
def status_command(context: typer.Context, as_json: bool = JsonOption) -> None:
    """Hub registry, links and last verification (`dive.federation.status/1`)."""
    with _command(context, as_json) as (options, fed):
        with instance_session(_hub_db(fed)) as session:
            registry = FederationRegistryRepository()
            version = registry.read_version(session)
            spokes = [s for s in registry.list_spokes(session) if s.code != HUB]
            links = link_rows(session)
            kas = {e.kas_id: e.status for e in session.scalars(select(KasRegistryEntry))}
            legacy = session.get(RegistryMeta, LEGACY_IMPORT_KEY)
            rows = [_status_row(s, links, kas) for s in spokes]
            legacy_state = None if legacy is None else {"path": None, "state": legacy.value}
        source = legacy_registry_path(os.environ, Path(os.environ.get("DIVE_PROJECT_ROOT") or Path.cwd()))
        if legacy_state is None and source.exists():
            legacy_state = {"path": str(source), "state": "present but not imported; run dive federation migrate"}
        document = {"schema": "dive.federation.status/1", "hub": "USA", "registry_version": version,
                    "spokes": rows, "legacy_registry": legacy_state}  # fmt: skip

        def human() -> None:
            typer.echo(f"Federation · hub USA · registry version {version} · {len(rows)} spoke(s)")
            for row in rows:
                states = " ".join(f"{k} {v}" for k, v in row["links"].items()) or "no links"
                typer.echo(f"  {row['code']:<4} {row['status']:<10} {row['trust_level'] or '-':<12} {states}")
            if legacy_state is not None:
                typer.echo(f"  legacy registry: {legacy_state['state']}")

        _emit(options, as_json, document, human)


def _status_row(spoke: FederationSpoke, links: list[FederationLink], kas: dict[str, str]) -> dict[str, object]:
    own = [link for link in links if spoke.code in (link.source_code, link.target_code)]
    verified = [link.last_verified_at for link in own if link.last_verified_at is not None]
    results = [v for link in own for v in (link.last_result or {}).values()]
    kas_id = catalog.kas_id(spoke.code)
    return {
        "code": spoke.code.upper(),
        "status": spoke.status,
        "trust_level": spoke.trust_level,
        "max_classification": spoke.max_classification,
        "links": {f"{link.source_code.upper()}->{link.target_code.upper()}": link.status for link in own},
        "last_verified_at": _iso(max(verified)) if verified else None,
        "last_result_summary": f"{results.count('pass')}/{len(results) - results.count('skip')}" if results else None,
        "kas": {"kas_id": kas_id, "status": kas.get(kas_id)},
    }


@app.command("list")
def list_command(
    context: typer.Context,
    pending: bool = typer.Option(False, "--pending"),
    approved: bool = typer.Option(False, "--approved"),
    suspended: bool = typer.Option(False, "--suspended"),
    revoked: bool = typer.Option(False, "--revoked"),
    as_json: bool = JsonOption,
) -> None:
    """Registry rows, optionally of one status."""
    with _command(context, as_json) as (options, fed):
        chosen = [name for name, on in zip(_STATUSES, (pending, approved, suspended, revoked), strict=True) if on]
        if len(chosen) > 1:
            raise UsageError("choose at most one of --pending, --approved, --suspended, --revoked")
        with instance_session(_hub_db(fed)) as session:
            spokes = FederationRegistryRepository().list_spokes(session)
            rows = [
                {
                    "code": s.code.upper(),
                    "status": s.status,
                    "role": s.role,
                    "kind": s.kind,
                    "source": s.source,
                    "trust_level": s.trust_level,
                    "max_classification": s.max_classification,
                    "issuer": s.issuer,
                    "link_status": s.link_status,
                    "registered_at": _iso(s.registered_at),
                }
                for s in spokes
                if s.code != HUB and (not chosen or s.status == chosen[0])
            ]

        def human() -> None:
            for row in rows:
                typer.echo(f"{row['code']:<4} {row['status']:<10} {row['kind']:<7} {row['source']:<14} {row['issuer']}")
            typer.echo(f"{len(rows)} record(s)")

        _emit(options, as_json, {"schema": "dive.federation.list/1", "spokes": rows}, human)


@app.command("verify")
def verify_command(
    context: typer.Context,
    code: str | None = typer.Argument(None, help="The spoke, e.g. FRA."),
    attempts: int | None = typer.Option(None, "--attempts", help="Attempts (default $DIVE_VERIFY_ATTEMPTS or 5)."),
    backoff: str | None = typer.Option(None, "--backoff", help="Delays in s, e.g. 5,10,20 ($DIVE_VERIFY_BACKOFF)."),
    as_json: bool = JsonOption,
) -> None:
    """The 16 checks of §8.5 with backoff; exit 0 when every non-skipped check passes, else 1."""
    with _command(context, as_json) as (options, fed):
        spoke = _code(code, options)
        tries = parse_attempts(attempts if attempts is not None else os.environ.get("DIVE_VERIFY_ATTEMPTS"))
        schedule = parse_schedule(backoff if backoff is not None else os.environ.get("DIVE_VERIFY_BACKOFF"))
        json_mode = options.json or as_json
        out = sys.stderr if json_mode else sys.stdout
        report = _run_verify(fed, spoke, tries, schedule, out)
        _emit(options, as_json, report.to_json(), lambda: _print_report(report))
        raise typer.Exit(0 if report.ok else 1)


def _run_verify(
    fed: LocalFederation, spoke: str, attempts: int, schedule: tuple[float, ...], out: object
) -> VerifyReport:
    def on_retry(attempt: int, total: int, passed: int, checks: int, delay: float) -> None:
        print(f"Verification attempt {attempt}/{total}: {passed}/{checks} passed — retrying in {delay:g} s "
              f"({RETRY_HINT})", file=out, flush=True)  # fmt: skip

    with fed.http() as http:
        target = local_verify_target(fed, spoke, http)
        print(f"Verifying federation USA ⇄ {spoke.upper()} (16 checks)", file=out, flush=True)
        return verify_federation(target, attempts=attempts, schedule=schedule, on_retry=on_retry, sleep=time.sleep)


def _print_report(report: VerifyReport) -> None:
    for outcome in report.outcomes.values():
        mark = {"pass": "✓", "fail": "✗", "skip": "↷"}[outcome.status]
        typer.echo(f" {mark} {outcome.id:<16} {outcome.detail}")
    if report.ok:
        typer.echo(f"Passed: {report.passed}/{report.total} — federation USA ⇄ {report.spoke} is working "
                   f"({report.attempts} attempts, {report.duration_s:.1f} s)")  # fmt: skip
        return
    typer.echo(f"Passed: {report.passed}/{report.total} — FAILED after {report.attempts} attempts "
               f"({report.duration_s:.1f} s)")  # fmt: skip
    for outcome in report.outcomes.values():
        if outcome.status == "fail":
            typer.echo(f"  {outcome.id}: {outcome.detail} → {outcome.remediation}")


def _hub_api(fed: LocalFederation, http: httpx.Client) -> tuple[HubApi, HubCredential]:
    key = fed.keystore.get(f"{HUB}/federation-admin-key")
    if key is None:
        raise PreconditionError(
            "no hub admin key in this keystore (usa/federation-admin-key)", remediation="dive hub deploy"
        )
    url = os.environ.get("DIVE_HUB_URL") or fed.partner(HUB).api_url
    return HubApi(url, http), HubCredential("admin_key", key)


def _registry_status(fed: LocalFederation, spoke: str) -> str:
    with instance_session(_hub_db(fed)) as session:
        record = FederationRegistryRepository().get_spoke(session, spoke)
        return "absent" if record is None else record.status


def _both_halves(
    fed: LocalFederation, spoke: str, http: httpx.Client, work: Callable[[LinkSide, Partner], list[str]]
) -> list[str]:
    """`work` on the hub half, and on the spoke half when the spoke's admin password is in this keystore (§8.6)."""
    changes = work(fed.side(HUB, http), fed.partner(spoke))
    if fed.admin_password(spoke) is not None:
        changes += work(fed.side(spoke, http), fed.partner(HUB))
    return changes


def _record_links(fed: LocalFederation, spoke: str, status: str, *, link_status: str | None = None) -> None:
    with instance_session(_hub_db(fed)) as session:
        set_link_rows(session, HUB, spoke, status)
        registry = FederationRegistryRepository()
        record = registry.get_spoke(session, spoke)
        if record is not None and link_status is not None:
            record.link_status, record.link_error = link_status, None
        registry.bump_version(session)


def _link(fed: LocalFederation, spoke: str, http: httpx.Client) -> list[str]:
    secret = fed.ensure_pair_secret(HUB, spoke)
    remote = trust_remote_spoke(fed, spoke)  # a spoke on another host: its CA and URLs, only the hub half here
    if remote is not None:
        with fed.http() as trusting:  # the rebuilt bundle holds the spoke's CA now
            changes = ensure_realm_half(fed.side(HUB, trusting), remote, secret, trusting)
    else:
        changes = _both_halves(fed, spoke, http, lambda side, partner: ensure_realm_half(side, partner, secret, http))
    _record_links(fed, spoke, "PENDING", link_status="active")
    return changes


@app.command("approve")
def approve_command(
    context: typer.Context,
    code: str | None = typer.Argument(None),
    trust_level: str = typer.Option("bilateral", "--trust-level", help="development|partner|bilateral|national"),
    max_classification: str = typer.Option("SECRET", "--max-classification", help="Declared only (CONSISTENCY #16)."),
) -> None:
    """pending or suspended → approved, then the links (PENDING until verified)."""
    with _command(context) as (options, fed):
        spoke = _code(code, options)
        if trust_level not in ("development", "partner", "bilateral", "national"):
            raise UsageError(f"--trust-level {trust_level}: choose development, partner, bilateral or national")
        trust_remote_spoke(fed, spoke)  # §8.2 step 0: the api trusts a remote spoke's CA once it is approved
        with fed.http() as http:
            hub, credential = _hub_api(fed, http)
            body = {"trustLevel": trust_level, "maxClassification": max_classification.upper()}
            hub.transition(spoke, "approve", body, credential)
            _link(fed, spoke, http)
        typer.echo(f"{spoke.upper()} approved ({trust_level}, {max_classification.upper()} declared); links PENDING")


@app.command("suspend")
def suspend_command(
    context: typer.Context,
    code: str | None = typer.Argument(None),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
) -> None:
    """approved → suspended; the link objects are disabled."""
    with _command(context) as (options, fed):
        spoke = _code(code, options)
        with fed.http() as http:
            hub, credential = _hub_api(fed, http)
            hub.transition(spoke, "suspend", {"reason": reason}, credential)
            _both_halves(fed, spoke, http, lambda side, partner: set_realm_half_enabled(side, partner, enabled=False))
        _record_links(fed, spoke, "DISABLED")
        typer.echo(f"{spoke.upper()} suspended; links DISABLED")


@app.command("revoke")
def revoke_command(
    context: typer.Context,
    code: str | None = typer.Argument(None),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
) -> None:
    """→ revoked (kept for audit); the links and the pair secret are deleted. Needs --yes."""
    with _command(context) as (options, fed):
        spoke = _code(code, options)
        _confirm(options, f"revoke {spoke.upper()}")
        with fed.http() as http:
            hub, credential = _hub_api(fed, http)
            hub.transition(spoke, "revoke", {"reason": reason}, credential)
            _both_halves(fed, spoke, http, remove_realm_half)
        fed.keystore.delete(pair_secret_path(HUB, spoke))
        _record_links(fed, spoke, "DISABLED")
        typer.echo(f"{spoke.upper()} revoked; links removed")


@app.command("link")
def link_command(context: typer.Context, code: str | None = typer.Argument(None)) -> None:
    """(Re)create the identity-provider links of an approved spoke on both sides."""
    with _command(context) as (options, fed):
        spoke = _code(code, options)
        status = _registry_status(fed, spoke)
        if status != "approved":
            raise PreconditionError(f"{spoke.upper()} is {status}; only an approved spoke can be linked",
                                    remediation=f"dive federation approve {spoke.upper()}")  # fmt: skip
        with fed.http() as http:
            changes = _link(fed, spoke, http)
        typer.echo(f"{spoke.upper()} linked: {len(changes)} change(s); links PENDING until verified")


@app.command("unlink")
def unlink_command(context: typer.Context, code: str | None = typer.Argument(None)) -> None:
    """Delete the link objects on both sides; the registry status stays. Needs --yes."""
    with _command(context) as (options, fed):
        spoke = _code(code, options)
        _confirm(options, f"unlink {spoke.upper()}")
        with fed.http() as http:
            removed = _both_halves(fed, spoke, http, remove_realm_half)
        _record_links(fed, spoke, "DISABLED")
        typer.echo(f"{spoke.upper()} unlinked: {len(removed)} object(s) removed; links DISABLED")


def _confirm(options: GlobalOptions, what: str) -> None:
    if options.yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"{what} needs confirmation: pass --yes")
    if not typer.confirm(f"Really {what}?"):
        raise UsageError(f"{what}: not confirmed; nothing was changed")


@app.command("migrate")
def migrate_command(
    context: typer.Context,
    source: Path | None = typer.Option(None, "--from", help="Legacy registry (default $DIVE_LEGACY_REGISTRY)."),
    delete: bool = typer.Option(False, "--delete", help="Delete the file instead of renaming it."),
    force: bool = typer.Option(False, "--force", help="Import a registry whose version is not 3.x."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Print the counts; change nothing."),
) -> None:
    """Import the legacy JSON registry once, verify it, then retire the file (§8.7)."""
    with _command(context) as (options, fed):
        root = Path(os.environ.get("DIVE_PROJECT_ROOT") or Path.cwd())
        path = (source or legacy_registry_path(os.environ, root)).absolute()
        result = migrate_legacy(path, db_url=_hub_db(fed), lock_dir=options.home / "locks", environ=os.environ,
                                delete=delete, force=force, dry_run=dry_run or options.dry_run)  # fmt: skip
        _print_migration(result)


def _print_migration(result: MigrationResult) -> None:
    if result.outcome in ("nothing", "finished") or result.plan is None:
        retired = result.retired_path or "deleted"
        when = _iso(result.retired_at) or "earlier"
        verb = (
            "Finished retiring"
            if result.outcome == "finished"
            else "Nothing to migrate: legacy registry already retired"
        )
        typer.echo(f"{verb} ({retired}, {when})")
        return
    plan, counts = result.plan, result.plan.counts()
    typer.echo(f"Importing legacy registry {result.source} (v{plan.version}, sha256 {(result.sha256 or '')[:4]}…"
               f"{(result.sha256 or '')[-4:]})")  # fmt: skip
    kept = f" (kept: {', '.join(plan.kept)})" if plan.kept else ""
    typer.echo(f"  instances  {counts['instances']} → hub {counts['hub']} (not imported), spokes "
               f"{counts['imported'] + counts['kept']}: {counts['imported']} imported, {counts['kept']} already "
               f"registered{kept}")  # fmt: skip
    typer.echo(f"  matrix     {counts['pairs']} pairs imported, {counts['self_references']} self-references ignored")
    typer.echo(f"  links      {counts['links']} PENDING — deploy each spoke (dive spoke deploy CODE) or run "
               "dive federation link CODE")  # fmt: skip
    for warning in plan.warnings:
        typer.echo(f"  warning    {warning}")
    if result.outcome == "dry_run":
        typer.echo("Dry run: nothing was changed.")
        return
    spokes, pairs = result.verified
    typer.echo(f"Verified: {spokes}/{len(plan.accepted)} spokes and {pairs}/{len(plan.pairs)} matrix pairs present "
               "in the database.")  # fmt: skip
    typer.echo(f"Retired legacy file → {result.retired_path or 'deleted'}")
