"""The facts of one instance that every phase needs: names, ports, URLs, paths, secrets and rendered programs
(spec/orchestration.md §1.2–§1.3, §9.4). Derived from (home, code, environment) only; nothing here writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Final

from dive import catalog
from dive.domain.coi import COI_MEMBERS
from dive.orchestration import runtime
from dive.orchestration.crash import hooks_enabled
from dive.orchestration.database import orchestration_url
from dive.orchestration.deploy.orchestration_reader import orchestration_reader_url
from dive.orchestration.deploy.redis_keys import instance_prefix, redis_server_url, safe_redis_url
from dive.orchestration.errors import UsageError
from dive.orchestration.supervisor_config import ProgramSpec
from dive.secrets import LocalKeystore, SecretsProvider
from dive.secrets.generation import (
    SHARED_ORCHESTRATION_READER_PASSWORD,
    SecretSpec,
    instance_secrets,
    secrets_for_service,
)
from dive.seed import AccountSpec, test_accounts
from dive.store import safe_url
from dive.store.instance_url import db_password_path, deployment_database_url, postgres_server_url

__all__ = ["DEFAULT_SEED_COUNT", "InstanceFacts", "instance_facts"]

DEFAULT_SEED_COUNT: Final = 5000  # §1.1 DIVE_SEED_COUNT, local; production 0
_TEST_HOOK_VARIABLES: Final = ("DIVE_TEST_HOOKS", "DIVE_TEST_IDP_PROPAGATION_DELAY_S")
# Settings whose URL may carry a password: config.json shows them masked and hashes them with the secrets.
_CREDENTIAL_URLS: Final[Mapping[str, Callable[[str], str]]] = {
    "DIVE_DATABASE_URL": safe_url,
    "DIVE_ORCH_DATABASE_URL": safe_url,
    "DIVE_REDIS_URL": safe_redis_url,
}


@dataclass(frozen=True)
class InstanceFacts:
    home: Path
    code: str  # lower case
    environ: Mapping[str, str]

    @property
    def is_hub(self) -> bool:
        return self.code == catalog.HUB

    @property
    def display(self) -> str:
        return self.code.upper()

    @property
    def production(self) -> bool:
        return (self.environ.get("DIVE_ENV") or "local").lower() == "production"

    @property
    def shift(self) -> int:
        return catalog.port_shift(self.environ)

    @property
    def host(self) -> str:
        return self.environ.get("DIVE_PUBLIC_HOST") or "localhost"

    @property
    def directory(self) -> Path:
        return self.home / "instances" / self.code

    @property
    def config_path(self) -> Path:
        return self.directory / "config.json"

    @property
    def realm(self) -> str:
        return catalog.realm(self.code)

    @property
    def issuer(self) -> str:
        return catalog.issuer(self.code, host=self.host, shift=self.shift)

    @property
    def kas_url(self) -> str:
        return catalog.kas_url(self.code, host=self.host, shift=self.shift)

    def port(self, service: str) -> int:
        return catalog.port(self.code, service, shift=self.shift)

    def url(self, service: str) -> str:
        return f"https://{self.host}:{self.port(service)}"

    @cached_property
    def services(self) -> tuple[str, ...]:
        return runtime.available_services()

    @property
    def postgres_server_url(self) -> str | None:
        """The server of `DIVE_DATABASE_URL` when the instance databases live on PostgreSQL (§1.1)."""
        return postgres_server_url(self.environ)

    @property
    def database_url(self) -> str:
        """Embedded file, or `dive_<c>` as role `dive_<c>` on the PostgreSQL server (§1.2, §9.4)."""
        password = self.secrets.get(db_password_path(self.code)) if self.postgres_server_url else None
        return deployment_database_url(self.environ, self.home, self.code, password)

    @property
    def database_exists(self) -> bool:
        """False for a database not created yet: read-only checks must not create it by connecting. On PostgreSQL the
        role's password is generated first, so without it there is no database either."""
        if self.postgres_server_url:
            return self.secrets.get(db_password_path(self.code)) is not None
        return not self.database_url.startswith("sqlite") or (self.directory / "data" / "instance.db").exists()

    @property
    def orchestration_url(self) -> str:
        return orchestration_url(self.home, self.environ)

    @property
    def redis_url(self) -> str | None:
        return redis_server_url(self.environ)

    @property
    def federated(self) -> bool:
        """A spoke deployed without `--skip-federation` (DIVE_SKIP_FEDERATION=1) runs C3–C8 (§4.4)."""
        return not self.is_hub and self.environ.get("DIVE_SKIP_FEDERATION") != "1"

    @property
    def with_test_users(self) -> bool:
        return not self.production or self.environ.get("DIVE_WITH_TEST_USERS") == "1"

    @property
    def seed_state_path(self) -> Path:
        return self.directory / "seed.json"

    @property
    def seed_count(self) -> int:
        """`--seed-count` (DIVE_SEED_COUNT), else the target of the last SEEDING, else the default (§1.1)."""
        raw = self.environ.get("DIVE_SEED_COUNT")
        if raw is None or raw == "":
            stored = self.seed_state().get("target")
            if isinstance(stored, int):
                return stored
            return 0 if self.production else DEFAULT_SEED_COUNT
        if not raw.isdigit():
            raise UsageError(f"DIVE_SEED_COUNT={raw!r} (--seed-count) is not a number of documents")
        return int(raw)

    def seed_state(self) -> dict[str, object]:
        """What SEEDING recorded (target, seed, as-of), so verify and resumed runs reuse it (CONSISTENCY #23)."""
        try:
            state = json.loads(self.seed_state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    @cached_property
    def accounts(self) -> list[AccountSpec]:
        return test_accounts(self.code, COI_MEMBERS) if self.with_test_users else []

    @property
    def secret_specs(self) -> list[SecretSpec]:
        totp = [account.username for account in self.accounts if account.needs_totp]
        specs = instance_secrets(self.code, totp_users=totp, test_users=self.with_test_users)
        if self.postgres_server_url:  # §9.2: delivered inside DIVE_DATABASE_URL, not as a DIVE_SECRET_ variable
            specs.append(SecretSpec(db_password_path(self.code), "password", 24, ()))
            if self.exports_deployment_metrics:  # delivered inside the api's DIVE_ORCH_DATABASE_URL
                specs.append(SecretSpec(SHARED_ORCHESTRATION_READER_PASSWORD, "password", 24, ()))
        return specs

    @property
    def secrets(self) -> SecretsProvider:
        return LocalKeystore(self.home)

    def programs(self) -> list[ProgramSpec]:
        """The supervisor programs with their §9.4 environment, secrets included (the group file is 0600)."""
        programs = runtime.service_programs(self.home, self.code, self.services, self.environ)
        specs, secrets = self.secret_specs, self.secrets
        rendered = []
        for program in programs:
            environment = {**program.environment, **self._extra_environment(program.service)}
            environment |= secrets_for_service(secrets, specs, program.service, hub=self.is_hub)
            rendered.append(replace(program, environment=environment))
        return rendered

    def _extra_environment(self, service: str) -> dict[str, str]:
        extra = {"DIVE_SECRETS_PROVIDER": "local", "DIVE_DATABASE_URL": self.database_url}
        if self.redis_url:
            extra |= {"DIVE_REDIS_URL": self.redis_url, "DIVE_REDIS_PREFIX": instance_prefix(self.code)}
        if hooks_enabled(self.environ) and service == "idp":
            extra |= {name: self.environ[name] for name in _TEST_HOOK_VARIABLES if self.environ.get(name)}
        if not self.is_hub:
            extra["DIVE_HUB_API_URL"] = _catalog_url(catalog.HUB, "api", self.host, self.shift)
        if service == "api" and self.exports_deployment_metrics:
            extra |= {"DIVE_ORCH_EXPORT": "1", "DIVE_ORCH_DATABASE_URL": self.orchestration_reader_url}
        return extra

    @property
    def orchestration_reader_url(self) -> str:
        """The orchestration DB as the api reads it: read-only role on PostgreSQL, never the server role (§12.1)."""
        password = self.secrets.get(SHARED_ORCHESTRATION_READER_PASSWORD) if self.postgres_server_url else None
        return orchestration_reader_url(self.home, self.environ, password)

    @property
    def exports_deployment_metrics(self) -> bool:
        """§12.1: the hub api exports the orchestration DB, and so does a spoke api on a home without a hub."""
        return self.is_hub or not (self.home / "instances" / catalog.HUB / "config.json").exists()

    def rendered_config(self) -> dict[str, object]:
        """`config.json`: the non-secret settings of every program and a hash of the secret values (§1.3)."""
        programs = {}
        secret_hash = hashlib.sha256()
        for program in self.programs():
            public = {k: v for k, v in program.environment.items() if not k.startswith("DIVE_SECRET_")}
            credentials = [key for key in _CREDENTIAL_URLS if key in public]
            for key in [*sorted(set(program.environment) - set(public)), *credentials]:
                secret_hash.update(f"{program.program}:{key}={program.environment[key]}\n".encode())
            public |= {key: _CREDENTIAL_URLS[key](public[key]) for key in credentials}  # passwords stay out
            programs[program.program] = {"port": program.port, "command": list(program.command), "environment": public}
        body: dict[str, object] = {"instance": self.display, "programs": programs, "secrets": secret_hash.hexdigest()}
        body["sha256"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        return body


def _catalog_url(code: str, service: str, host: str, shift: int) -> str:
    return f"https://{host}:{catalog.port(code, service, shift=shift)}"


def instance_facts(home: Path, code: str, environ: Mapping[str, str]) -> InstanceFacts:
    return InstanceFacts(home, catalog.normalize_code(code), environ)
