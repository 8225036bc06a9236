"""The composition root: the one place where adapters meet the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from onceonly.adapters.clock import SystemClock
from onceonly.adapters.connectors.sql import SqlConnectors
from onceonly.adapters.consent import NoConsentRecorded
from onceonly.adapters.db.audit import SqlSecrets
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.repository import SqlUnitOfWorkFactory
from onceonly.adapters.keystore import SqlKeyStore
from onceonly.config import database_url, operator_org
from onceonly.services.agreements import AgreementService
from onceonly.services.audit_log import AuditLogService
from onceonly.services.kill_switch import KillSwitchService
from onceonly.services.ports import Clock, ConsentRegistry
from onceonly.services.queries import QueryService


@dataclass
class Exchange:
    engine: Engine
    uows: SqlUnitOfWorkFactory
    clock: Clock
    keys: SqlKeyStore
    connectors: SqlConnectors
    agreements: AgreementService
    queries: QueryService
    audit: AuditLogService
    kill_switches: KillSwitchService

    def close(self) -> None:
        self.connectors.dispose()
        self.engine.dispose()


def bootstrap(
    url: str | None = None,
    *,
    clock: Clock | None = None,
    consents: ConsentRegistry | None = None,
    engine: Engine | None = None,
) -> Exchange:
    engine = engine or make_engine(database_url(url))
    clock = clock or SystemClock()
    uows = SqlUnitOfWorkFactory(engine)
    connectors = SqlConnectors()
    keys = SqlKeyStore(engine)
    return Exchange(
        engine=engine,
        uows=uows,
        clock=clock,
        keys=keys,
        connectors=connectors,
        agreements=AgreementService(uows, clock),
        queries=QueryService(uows, connectors, consents or NoConsentRecorded(), clock),
        kill_switches=KillSwitchService(uows, clock),
        audit=AuditLogService(uows, clock, keys, SqlSecrets(engine), operator_org()),
    )
