"""`dive kas keys|rotate|import-key` (spec/ztdf-kas.md §10): the instance's KAS key pairs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

import typer

from dive import catalog
from dive.kas.errors import KasError
from dive.kas.key_store import KasKeyInfo, KasKeyStore
from dive.orchestration.deploy.instance import instance_facts
from dive.secrets import LocalKeystore
from dive.store import StoreError, create_engine_for, ensure_schema, writer_session_factory
from dive.ztdf import ZtdfError, load_private_key

__all__ = ["app", "open_key_store"]

EXIT_FAILED: Final = 1
EXIT_REFUSED: Final = 2

app = typer.Typer(help="KAS key pairs of an instance: list, rotate, import.", no_args_is_help=True)
_HOME = typer.Option(None, "--home", help="Deployment home (default: $DIVE_HOME or ./.dive).")
_JSON = typer.Option(False, "--json", help="Print JSON.")


def open_key_store(code: str, home: Path | None) -> KasKeyStore:
    """The key store of instance `code`, its database migrated to head first."""
    environ = dict(os.environ)
    root = (home or Path(environ.get("DIVE_HOME") or "./.dive")).expanduser().absolute()
    normalized = catalog.normalize_code(code)
    url = instance_facts(root, normalized, environ).database_url  # on PostgreSQL: dive_<c> as its own role
    ensure_schema(url, lock_dir=root / "locks")
    kas_url = catalog.kas_url(normalized, shift=catalog.port_shift(environ))
    sessions = writer_session_factory(create_engine_for(url))
    return KasKeyStore(home=root, code=normalized, sessions=sessions, secrets=LocalKeystore(root), kas_url=kas_url)


def _document(info: KasKeyInfo) -> dict[str, str]:
    return {
        "kid": info.kid,
        "algorithm": info.algorithm,
        "status": info.status,
        "fingerprint": info.fingerprint,
        "createdAt": info.created_at.isoformat(),
    }


def _fail(exc: KasError | StoreError | ZtdfError | catalog.CatalogError, as_json: bool) -> typer.Exit:
    code = getattr(exc, "code", "failed")
    message = getattr(exc, "message", str(exc))
    if as_json:
        typer.echo(json.dumps({"schema": "dive.error/1", "error": code, "message": message}))
    else:
        typer.echo(f"error[{code}]: {message}", err=True)
    return typer.Exit(EXIT_FAILED)


def _print(infos: list[KasKeyInfo], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"keys": [_document(info) for info in infos]}))
        return
    for info in infos:
        typer.echo(
            f"{info.kid:<24} {info.status:<8} {info.algorithm:<9} {info.fingerprint[:16]}  {info.created_at:%Y-%m-%d}"
        )


@app.command("keys")
def keys_command(
    code: str = typer.Argument(..., help="Instance code."), home: Path | None = _HOME, as_json: bool = _JSON
) -> None:
    """List the KAS keys of an instance."""
    try:
        _print(open_key_store(code, home).list_keys(), as_json)
    except (KasError, StoreError, catalog.CatalogError) as exc:
        raise _fail(exc, as_json) from exc


@app.command("rotate")
def rotate_command(
    code: str = typer.Argument(..., help="Instance code."), home: Path | None = _HOME, as_json: bool = _JSON
) -> None:
    """Create a new active key; the previous one is retired and still unwraps. The KAS reloads within 5 s."""
    try:
        _print([open_key_store(code, home).rotate()], as_json)
    except (KasError, StoreError, catalog.CatalogError) as exc:
        raise _fail(exc, as_json) from exc


@app.command("import-key")
def import_key_command(
    code: str = typer.Argument(..., help="Instance code."),
    kid: str = typer.Option(..., "--kid", help="Key id written in the documents' KAOs."),
    private_key: Path = typer.Option(..., "--private-key", exists=True, dir_okay=False, help="PKCS#8 PEM file."),
    status: str = typer.Option("active", "--status", help="active or retired."),
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Import an existing RSA private key (interop tests); refused in production."""
    if os.environ.get("DIVE_ENV", "").lower() == "production":
        typer.echo("error[kas_import_refused]: key import is refused in production", err=True)
        raise typer.Exit(EXIT_REFUSED)
    if status not in ("active", "retired"):
        typer.echo(f"error[usage]: --status {status!r} is not active or retired", err=True)
        raise typer.Exit(EXIT_REFUSED)
    try:
        key = load_private_key(private_key.read_bytes())
        _print([open_key_store(code, home).import_key(kid, key, status)], as_json)  # type: ignore[arg-type]
    except (KasError, StoreError, ZtdfError, catalog.CatalogError) as exc:
        raise _fail(exc, as_json) from exc
