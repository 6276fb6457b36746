"""`dive ztdf encrypt|decrypt|inspect` (spec/ztdf-kas.md §14; CONSISTENCY #37 for exit codes and `--json` errors)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NoReturn

import httpx
import typer
from sqlalchemy import select

from dive import catalog
from dive.kas.client import KasClient
from dive.orchestration.deploy.instance import instance_facts
from dive.pki import ca_bundle_path, ssl_context_for
from dive.store import StoreError, create_engine_for, session_factory
from dive.store.models.kas import KasRegistryEntry, KasRegistryKey
from dive.ztdf import (
    ContainerInvalidError,
    IntegrityError,
    KasTarget,
    KeySource,
    KeyUnavailableError,
    Label,
    LocalKeySource,
    ManifestInvalidError,
    ManifestTooLargeError,
    SegmentLayoutError,
    UnsupportedError,
    ZtdfError,
    open_ztdf,
    unlock,
    write_ztdf,
)

__all__ = ["app", "exit_code_for"]

EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTEGRITY: Final = 3
EXIT_DENIED: Final = 4
EXIT_KAS_UNAVAILABLE: Final = 5
EXIT_INVALID_FILE: Final = 6
_INVALID_FILE = (
    ContainerInvalidError,
    ManifestInvalidError,
    ManifestTooLargeError,
    SegmentLayoutError,
    UnsupportedError,
)

app = typer.Typer(help="Encrypt, decrypt and inspect ZTDF files.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print JSON.")
_HOME = typer.Option(None, "--home", help="Deployment home (default: $DIVE_HOME or ./.dive).")


def exit_code_for(error: ZtdfError) -> int:
    """§14: 3 integrity, 4 denied, 5 KAS unavailable, 6 invalid or unsupported file, 1 anything else."""
    if isinstance(error, IntegrityError):
        return EXIT_INTEGRITY
    if isinstance(error, _INVALID_FILE):
        return EXIT_INVALID_FILE
    if isinstance(error, KeyUnavailableError):
        codes = {cause.get("code") for cause in error.detail.get("causes", [])}  # type: ignore[union-attr]
        if "policy_denied" in codes:
            return EXIT_DENIED
        if codes and codes <= {"kas_unavailable", "kas_not_trusted"}:
            return EXIT_KAS_UNAVAILABLE
    return EXIT_FAILED


def _fail(code: str, message: str, exit_code: int, as_json: bool) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"schema": "dive.error/1", "error": code, "message": message}))
    else:
        typer.echo(f"error[{code}]: {message}", err=True)
    raise typer.Exit(exit_code)


def _home(home: Path | None) -> Path:
    return (home or Path(os.environ.get("DIVE_HOME") or "./.dive")).expanduser().absolute()


def _split(values: str) -> tuple[str, ...]:
    return tuple(v.strip().upper() for v in values.split(",") if v.strip())


def _registry_targets(home: Path, instance: str) -> list[KasTarget]:
    """The owner KAS and its active key from the instance's KAS registry (§6.2 step 1)."""
    code = catalog.normalize_code(instance)
    engine = create_engine_for(instance_facts(home, code, os.environ).database_url)
    try:
        with session_factory(engine)() as session:
            entry = session.get(KasRegistryEntry, catalog.kas_id(code))
            key = session.scalar(
                select(KasRegistryKey).where(
                    KasRegistryKey.kas_id == catalog.kas_id(code), KasRegistryKey.status == "active"
                )
            )
            if entry is None or key is None or entry.status != "approved":
                raise StoreError(f"{code.upper()} has no approved KAS with an active key; run `dive kas rotate {code}`")
            return [KasTarget(url=entry.url, kid=key.kid, public_key_pem=key.public_key_pem.encode())]
    finally:
        engine.dispose()


@app.command("encrypt")
def encrypt_command(
    source: Path = typer.Argument(..., exists=True, dir_okay=False),
    output: Path = typer.Option(..., "-o", "--output"),
    classification: str = typer.Option(..., "--classification"),
    rel: str = typer.Option(..., "--rel", help="Releasable-to countries, comma-separated."),
    coi: str = typer.Option("", "--coi"),
    coi_operator: str = typer.Option("ALL", "--coi-operator"),
    caveat: str = typer.Option("", "--caveat"),
    industry: bool = typer.Option(False, "--industry"),
    instance: str = typer.Option("USA", "--instance"),
    resource_id: str | None = typer.Option(None, "--resource-id"),
    mime_type: str = typer.Option("application/octet-stream", "--mime-type"),
    kas_public_key: str | None = typer.Option(None, "--kas-public-key", help="kid=FILE: wrap offline to this key."),
    kas_url: str | None = typer.Option(None, "--kas-url", help="KAS URL written into the KAO (with --kas-public-key)."),
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Encrypt a file into ZTDF for the instance's KAS (or an explicit offline key)."""
    label = Label(
        classification=classification.upper(),  # type: ignore[arg-type]
        releasable_to=_split(rel),
        originator_country=instance.upper(),
        creation_date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cois=_split(coi),
        coi_operator=coi_operator.upper(),  # type: ignore[arg-type]
        caveats=_split(caveat),
        releasable_to_industry=industry,
    )
    try:
        if kas_public_key is not None:
            kid, _, file = kas_public_key.partition("=")
            if not kid or not file or not kas_url:
                _fail("usage", "--kas-public-key needs kid=FILE and --kas-url", EXIT_USAGE, as_json)
            targets = [KasTarget(url=kas_url, kid=kid, public_key_pem=Path(file).read_bytes())]
        else:
            targets = _registry_targets(_home(home), instance)
        temp = output.with_name(f".{output.name}.part")
        with source.open("rb") as plaintext, temp.open("wb") as sink:
            manifest = write_ztdf(
                plaintext, sink, label=label, kas_targets=targets, resource_id=resource_id, mime_type=mime_type
            )
        temp.replace(output)
    except ZtdfError as exc:
        _fail(exc.code, exc.message, exit_code_for(exc), as_json)
    except (StoreError, OSError) as exc:
        _fail(getattr(exc, "code", "failed"), str(exc), EXIT_FAILED, as_json)
    summary = {"output": str(output), "kaos": [{"url": k.url, "kid": k.kid} for k in manifest.key_access]}
    typer.echo(json.dumps(summary) if as_json else f"wrote {output} ({len(manifest.key_access)} KAO)")


def _url_map(entries: list[str]) -> dict[str, str]:
    pairs = [entry.partition("=") for entry in entries + os.environ.get("DIVE_KAS_URL_MAP", "").split()]
    return {old: new for old, sep, new in pairs if sep and old and new}


def _allowed_urls(home: Path, instance: str) -> list[str]:
    """§6.4: only approved registry URLs receive the user's token."""
    try:
        engine = create_engine_for(instance_facts(home, instance, os.environ).database_url)
        try:
            with session_factory(engine)() as session:
                rows = session.scalars(select(KasRegistryEntry).where(KasRegistryEntry.status == "approved"))
                return [url for row in rows for url in (row.url, row.internal_url) if url]
        finally:
            engine.dispose()
    except StoreError:
        return []


def _key_source(
    home: Path, instance: str, token_file: Path | None, private_key: Path | None, kid: str, url_map: list[str]
) -> tuple[KeySource, httpx.Client | None]:
    if private_key is not None:
        return LocalKeySource.from_pem(private_key.read_bytes(), kid), None
    token = token_file.read_text().strip() if token_file else os.environ.get("DIVE_TOKEN", "").strip()
    if not token:
        raise typer.BadParameter("give --token-file, DIVE_TOKEN or --private-key")
    if url_map and os.environ.get("DIVE_ENV", "").lower() == "production":
        raise typer.BadParameter("--kas-url-map is refused in production")
    http = httpx.Client(verify=ssl_context_for(ca_bundle_path(home)), timeout=httpx.Timeout(5.0, connect=2.0))
    client = KasClient(http=http, token=token, url_map=_url_map(url_map), allowed_urls=_allowed_urls(home, instance))
    return client, http


@app.command("decrypt")
def decrypt_command(
    source: Path = typer.Argument(..., exists=True, dir_okay=False),
    output: Path = typer.Option(..., "-o", "--output"),
    instance: str = typer.Option("USA", "--instance"),
    token_file: Path | None = typer.Option(None, "--token-file", exists=True, dir_okay=False),
    private_key: Path | None = typer.Option(None, "--private-key", exists=True, dir_okay=False),
    kid: str = typer.Option("", "--kid"),
    kas_url_map: list[str] = typer.Option([], "--kas-url-map", help="OLD=NEW, repeatable (tests and interop)."),
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Decrypt through the KAS with a user's token (or offline with a private key); temp file, then rename."""
    key_source, http = _key_source(_home(home), instance, token_file, private_key, kid, kas_url_map)
    temp = output.with_name(f".{output.name}.part")
    try:
        with open_ztdf(source) as container, temp.open("wb") as sink:
            for chunk in unlock(container, key_source).iter_plaintext(verify_all_first=True):
                sink.write(chunk)
        temp.replace(output)
    except ZtdfError as exc:
        temp.unlink(missing_ok=True)
        _fail(exc.code, exc.message, exit_code_for(exc), as_json)
    finally:
        if http is not None:
            http.close()
    typer.echo(json.dumps({"output": str(output)}) if as_json else f"wrote {output}")


@app.command("inspect")
def inspect_command(source: Path = typer.Argument(..., exists=True, dir_okay=False), as_json: bool = _JSON) -> None:
    """Container and manifest summary; the label is unverified (no key is obtained)."""
    try:
        with open_ztdf(source) as container:
            manifest, policy, label = container.manifest, container.policy, container.label
            summary = {
                "kaos": [{"url": k.url, "kid": k.kid, "sid": k.sid, "type": k.type} for k in manifest.key_access],
                "segments": len(manifest.integrity.segments),
                "policy": {"uuid": policy.uuid, "attributes": list(policy.data_attributes)},
                "label": None if label is None else {"displayMarking": label.display_marking, "verified": False},
            }
    except ZtdfError as exc:
        _fail(exc.code, exc.message, exit_code_for(exc), as_json)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    json.dump(summary, sys.stdout, indent=2)
    typer.echo()
