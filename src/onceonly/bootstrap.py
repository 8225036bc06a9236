"""The composition root: the one place where adapters meet the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from onceonly.adapters.clock import SystemClock
from onceonly.adapters.connectors.sql import SqlConnectors
from onceonly.adapters.consent import NoConsentRecorded
from onceonly.adapters.data_keys import SqlDataKeyStore
from onceonly.adapters.db.audit import SqlSecrets
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.repository import SqlUnitOfWorkFactory
from onceonly.adapters.keystore import SqlKeyStore
from onceonly.adapters.kms_file import FileMasterKeys
from onceonly.adapters.request_nonces import SqlNonceStore, SqlVerificationKeys
from onceonly.config import database_url, operator_org
from onceonly.services.agreements import AgreementService
from onceonly.services.anomaly import AnomalyService
from onceonly.services.audit_log import AuditLogService
from onceonly.services.bulk import BulkService
from onceonly.services.envelopes import Envelopes
from onceonly.services.kill_switch import KillSwitchService
from onceonly.services.ports import Clock, ConsentRegistry, MasterKeys
from onceonly.services.queries import QueryService
from onceonly.services.request_signatures import RequestVerifier


@dataclass
class Exchange:
    engine: Engine
    uows: SqlUnitOfWorkFactory
    clock: Clock
    master_keys: MasterKeys
    envelopes: Envelopes
    keys: SqlKeyStore
    connectors: SqlConnectors
    agreements: AgreementService
    queries: QueryService
    audit: AuditLogService
    kill_switches: KillSwitchService
    anomalies: AnomalyService
    bulk: BulkService
    signatures: RequestVerifier

    def close(self) -> None:
        self.connectors.dispose()
        self.engine.dispose()


def bootstrap(
    url: str | None = None,
    *,
    clock: Clock | None = None,
    consents: ConsentRegistry | None = None,
    engine: Engine | None = None,
    master_keys: MasterKeys | None = None,
) -> Exchange:
    """`master_keys`: a KMS adapter in production; by default the key file from
    configuration (ONCEONLY_MASTER_KEY_FILE, else the data directory's), read when first
    needed."""
    engine = engine or make_engine(database_url(url))
    clock = clock or SystemClock()
    uows = SqlUnitOfWorkFactory(engine)
    connectors = SqlConnectors()
    consents = consents or NoConsentRecorded()
    master_keys = master_keys or FileMasterKeys.from_config(engine.url)
    envelopes = Envelopes(master_keys, SqlDataKeyStore(engine), clock)
    keys = SqlKeyStore(engine, envelopes)
    return Exchange(
        engine=engine,
        uows=uows,
        clock=clock,
        master_keys=master_keys,
        envelopes=envelopes,
        keys=keys,
        connectors=connectors,
        agreements=AgreementService(uows, clock),
        queries=QueryService(uows, connectors, consents, clock),
        kill_switches=KillSwitchService(uows, clock),
        anomalies=AnomalyService(uows, clock),
        bulk=BulkService(uows, connectors, consents, clock),
        audit=AuditLogService(uows, clock, keys, SqlSecrets(engine), operator_org()),
        signatures=RequestVerifier(SqlVerificationKeys(engine), SqlNonceStore(engine), clock),
    )
