"""Everything the api's routes share, built once by `create_app` and opened in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dive.api.auth import Authenticator
from dive.api.federated import FederatedSearch
from dive.api.kas_gateway import KasGateway
from dive.api.kas_registry import KasDirectory
from dive.api.metrics import ApiMetrics
from dive.api.pep import Pep
from dive.api.search import Searcher
from dive.api.settings import ApiSettings
from dive.policy.registry_feed import RegistryFeed
from dive.service import ServiceSettings
from dive.service.decision_log import DecisionLogWriter

__all__ = ["ApiRuntime"]


@dataclass
class ApiRuntime:
    service: ServiceSettings
    settings: ApiSettings
    database: Engine
    sessions: sessionmaker[Session]
    writer_sessions: sessionmaker[Session]
    feed: RegistryFeed
    kas: KasDirectory
    pep: Pep
    searcher: Searcher
    audit: DecisionLogWriter
    metrics: ApiMetrics
    auth: Authenticator
    gateway: KasGateway
    federated: FederatedSearch
    http: httpx.AsyncClient = field(repr=False)  # closed in the lifespan, like `sync_http`
    sync_http: httpx.Client = field(repr=False)
