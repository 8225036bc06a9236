"""The composition root: the one place where adapters meet the use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from onceonly.adapters.clock import SystemClock
from onceonly.adapters.connectors.sql import SqlConnectors
from onceonly.adapters.data_keys import SqlDataKeyStore
from onceonly.adapters.db.audit import SqlSecrets
from onceonly.adapters.db.consents import InboxCorrectionNotifier, SqlConsentRegistry
from onceonly.adapters.db.dashboard import SqlDecisionLog
from onceonly.adapters.db.engine import Access, make_engine
from onceonly.adapters.db.repository import SqlUnitOfWorkFactory
from onceonly.adapters.keystore import SqlKeyStore
from onceonly.adapters.kms_file import FileMasterKeys
from onceonly.adapters.match_sources import SqlMatchSources
from onceonly.adapters.matching_splink import SplinkMatcher
from onceonly.adapters.request_nonces import SqlNonceStore, SqlVerificationKeys
from onceonly.config import database_url, delivery_lease, delivery_retry, operator_org
from onceonly.domain.life_events import RetryPolicy
from onceonly.services.agreements import AgreementService
from onceonly.services.anomaly import AnomalyService
from onceonly.services.audit_log import AuditLogService
from onceonly.services.bulk import BulkService
from onceonly.services.challenges import ChallengeService
from onceonly.services.citizen_accounts import CitizenAccountService
from onceonly.services.consents import ConsentService
from onceonly.services.dashboard import DashboardService
from onceonly.services.delivery import DeliveryService
from onceonly.services.envelopes import Envelopes
from onceonly.services.identity import IdentityService, PairwisePseudonyms
from onceonly.services.kill_switch import KillSwitchService
from onceonly.services.life_events import CorrectionsByDelivery, LifeEventService
from onceonly.services.ports import Clock, ConsentRegistry, CorrectionNotifier, MasterKeys
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
    consents: ConsentService
    challenges: ChallengeService
    citizen_accounts: CitizenAccountService
    dashboard: DashboardService
    life_events: LifeEventService
    deliveries: DeliveryService
    identity: IdentityService

    @property
    def embedded_database(self) -> bool:
        """The database runs inside this process (SQLite): its calls are CPU work, not
        waits on a network."""
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.connectors.dispose()
        self.engine.dispose()


def bootstrap(
    url: str | None = None,
    *,
    access: Access = Access.CREATE,
    clock: Clock | None = None,
    consents: ConsentRegistry | None = None,
    corrections: CorrectionNotifier | None = None,
    engine: Engine | None = None,
    master_keys: MasterKeys | None = None,
) -> Exchange:
    """`access`: what opening the database may do (engine.Access); read-only, the default
    key file is never made either. `corrections`: how consumers are told of corrections
    (default: tell-us-once delivery to those with a webhook, else the correction notices
    inbox). `master_keys`: a KMS adapter in production; by default the key file from
    configuration (ONCEONLY_MASTER_KEY_FILE, else the one beside the database), read when
    first needed."""
    engine = engine or make_engine(database_url(url), access)
    clock = clock or SystemClock()
    uows = SqlUnitOfWorkFactory(engine)
    connectors = SqlConnectors()
    consents = consents or SqlConsentRegistry()
    master_keys = master_keys or FileMasterKeys.from_config(
        engine.url, read_only=access is Access.READ_ONLY)
    envelopes = Envelopes(master_keys, SqlDataKeyStore(engine), clock)
    keys = SqlKeyStore(engine, envelopes)
    pseudonyms = PairwisePseudonyms(SqlSecrets(engine))
    return Exchange(
        engine=engine,
        uows=uows,
        clock=clock,
        master_keys=master_keys,
        envelopes=envelopes,
        keys=keys,
        connectors=connectors,
        agreements=AgreementService(uows, clock),
        queries=QueryService(uows, connectors, clock, keys, pseudonyms=pseudonyms),
        kill_switches=KillSwitchService(uows, clock),
        anomalies=AnomalyService(uows, clock),
        bulk=BulkService(uows, connectors, consents, clock, pseudonyms=pseudonyms),
        audit=AuditLogService(uows, clock, keys, SqlSecrets(engine), operator_org()),
        signatures=RequestVerifier(SqlVerificationKeys(engine), SqlNonceStore(engine), clock),
        identity=IdentityService(uows, SqlMatchSources(engine), SplinkMatcher(), clock),
        consents=ConsentService(uows, connectors, clock, keys, operator_org()),
        challenges=ChallengeService(uows, connectors, clock, corrections or CorrectionsByDelivery(
            InboxCorrectionNotifier(clock), envelopes, clock, operator_org())),
        citizen_accounts=CitizenAccountService(uows, clock, envelopes, operator_org()),
        dashboard=DashboardService(SqlDecisionLog(engine), uows, clock),
        life_events=LifeEventService(uows, clock, envelopes, operator_org()),
        deliveries=DeliveryService(uows, clock, envelopes, keys, operator_org(),
                                   RetryPolicy(*delivery_retry()),
                                   lease=timedelta(seconds=delivery_lease())),
    )
