"""The composition root: the one place where adapters meet the use cases."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine

from onceonly.adapters.clock import SystemClock
from onceonly.adapters.connectors.providers import ProviderConnectors
from onceonly.adapters.db.audit import SqlSecrets
from onceonly.adapters.db.consents import SqlConsentRegistry
from onceonly.adapters.db.dashboard import SqlDecisionLog
from onceonly.adapters.db.data_keys import SqlDataKeyStore
from onceonly.adapters.db.doorbell import PostgresDoorbell
from onceonly.adapters.db.engine import Access, durability, make_engine
from onceonly.adapters.db.health import SqlDatabase
from onceonly.adapters.db.people import SqlPersonIdentifiers
from onceonly.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from onceonly.adapters.doorbell import InProcessDoorbell
from onceonly.adapters.keystore import SqlKeyStore
from onceonly.adapters.kms_file import FileMasterKeys
from onceonly.adapters.match_sources import SqlMatchSources
from onceonly.adapters.matching_splink import SplinkMatcher
from onceonly.adapters.openid import AuthlibOpenIdClient
from onceonly.adapters.request_signatures import SqlNonceStore, SqlVerificationKeys
from onceonly.adapters.timestamp_authority import HttpTimestampAuthority
from onceonly.adapters.witness_http import HttpWitness
from onceonly.config import (
    connector_hosts,
    database_connections,
    database_url,
    delivery_lease,
    delivery_retry,
    log_origin,
    operator_org,
    password_sign_in,
    privacy_policy_url,
    read_secret,
    settings,
    timestamp_authorities,
    timestamp_every,
    timestamp_roots_file,
    witness_key_file,
    witness_logs_file,
    witness_name,
    witnesses,
)
from onceonly.crypto.cosignatures import load_key, parse_vkey
from onceonly.crypto.timestamps import load_roots
from onceonly.domain.life_events import RetryPolicy
from onceonly.domain.single_sign_on import ClientAuth
from onceonly.services.accounts import AccountService
from onceonly.services.accuracy import AccuracyService, InboxCorrectionNotifier
from onceonly.services.agreements import AgreementService
from onceonly.services.anomaly import AnomalyService
from onceonly.services.audit import AuditService
from onceonly.services.auth import AuthService
from onceonly.services.bulk import BulkService
from onceonly.services.bundles import BundleKeys, BundleService
from onceonly.services.catalogue import CatalogueService
from onceonly.services.consents import ConsentService
from onceonly.services.correction_deliveries import CorrectionsByDelivery
from onceonly.services.dashboard import DashboardService
from onceonly.services.datasets import DatasetService
from onceonly.services.delivery import DeliveryService
from onceonly.services.entry_verification import EntryVerifier
from onceonly.services.envelopes import Envelopes
from onceonly.services.health import HealthService
from onceonly.services.identity import IdentityService, PairwisePseudonyms
from onceonly.services.intake_claims import IntakeClaims
from onceonly.services.keys import KeyService
from onceonly.services.kill_switch import KillSwitchService
from onceonly.services.life_events import LifeEventService
from onceonly.services.members import MembersService
from onceonly.services.org_keys import OrgKeyService
from onceonly.services.people import PeopleService
from onceonly.services.ports.accuracy import CorrectionNotifier
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.consents import ConsentRegistry
from onceonly.services.ports.keys import MasterKeys
from onceonly.services.ports.single_sign_on import Client, OneLogin
from onceonly.services.ports.unit_of_work import Durability
from onceonly.services.queries import QueryService
from onceonly.services.register import RegisterService
from onceonly.services.request_signatures import RequestVerifier
from onceonly.services.single_sign_on import SingleSignOnService
from onceonly.services.timestamps import TimestampService
from onceonly.services.witness import WatchedLog, WitnessService
from onceonly.services.witnesses import WitnessesService
from onceonly.services.work_queue import WorkQueueService

if TYPE_CHECKING:
    from onceonly.adapters.webhooks import AiohttpTransport
WEB_FORMS_SECRET = "web-forms"  # made by migration 0008: signs the portals' CSRF tokens


@dataclass
class Exchange:
    engine: Engine
    uows: SqlUnitOfWorkFactory
    clock: Clock
    master_keys: MasterKeys
    envelopes: Envelopes
    key_store: SqlKeyStore
    connectors: ProviderConnectors
    agreements: AgreementService
    queries: QueryService
    audit: AuditService
    kill_switch: KillSwitchService
    anomaly: AnomalyService
    bulk: BulkService
    request_signatures: RequestVerifier
    auth: AuthService
    consents: ConsentService
    accuracy: AccuracyService
    accounts: AccountService
    dashboard: DashboardService
    life_events: LifeEventService
    delivery: DeliveryService
    identity: IdentityService
    catalogue: CatalogueService
    health: HealthService
    keys: KeyService
    people: PeopleService
    members: MembersService
    entry_verification: EntryVerifier
    org_keys: OrgKeyService
    datasets: DatasetService
    timestamps: TimestampService
    witnesses: WitnessesService
    witness: WitnessService
    bundles: BundleService
    register: RegisterService
    work_queue: WorkQueueService
    single_sign_on: SingleSignOnService
    # The one secret the web portals need, read on first use (once the database is migrated).
    web_forms_key: Callable[[], bytes]
    # Where the API's answers wait for their commits to be on disk (SQLite's group commit).
    durability: Durability

    @property
    def embedded_database(self) -> bool:
        """The database runs inside this process (SQLite): its calls are CPU work, not
        waits on a network."""
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.connectors.dispose()
        self.timestamps.close()
        self.witnesses.close()
        self.engine.dispose()


# long: the composition root, a line or two per use case wired; split, the wiring would scatter
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
    engine = engine or make_engine(database_url(url), access, database_connections())
    clock = clock or SystemClock()
    uows = SqlUnitOfWorkFactory(engine)
    consents = consents or SqlConsentRegistry()
    master_keys = master_keys or FileMasterKeys.from_config(
        engine.url, read_only=access is Access.READ_ONLY)
    envelopes = envelopes_for(engine, master_keys, clock)
    keys = SqlKeyStore(engine, envelopes)
    # HTTP providers verify the exchange's RFC 9421 signatures against its JWKS.
    connectors = ProviderConnectors(lambda: keys.request_key_for(operator_org()))
    secrets = SqlSecrets(engine)
    verifier = RequestVerifier(SqlVerificationKeys(engine), SqlNonceStore(engine), clock)
    pseudonyms = PairwisePseudonyms(secrets)
    audit = AuditService(uows, clock, keys, secrets, operator_org())
    # A key file is rotated here; a KMS rotates its own keys.
    key_service = KeyService(
        master_keys, master_keys if isinstance(master_keys, FileMasterKeys) else None,
        envelopes, keys, operator_org())
    witnesses_of = witnesses_for(uows, clock)
    accounts = AccountService(uows, clock, envelopes, operator_org(),
                              passwords=password_sign_in)
    identity = IdentityService(uows, SqlMatchSources(engine), SplinkMatcher(), clock)
    # A report wakes the delivery workers at once: this process's, and on PostgreSQL every
    # other process's too (LISTEN/NOTIFY).
    doorbell = (PostgresDoorbell(engine) if engine.dialect.name == "postgresql"
                else InProcessDoorbell())
    return Exchange(
        engine=engine,
        uows=uows,
        clock=clock,
        master_keys=master_keys,
        envelopes=envelopes,
        key_store=keys,
        connectors=connectors,
        agreements=AgreementService(uows, clock),
        queries=QueryService(uows, connectors, clock, keys, pseudonyms=pseudonyms),
        kill_switch=KillSwitchService(uows, clock),
        anomaly=AnomalyService(uows, clock),
        bulk=BulkService(uows, connectors, consents, clock, pseudonyms=pseudonyms),
        audit=audit,
        request_signatures=verifier,
        auth=AuthService(uows, clock, verifier),
        identity=identity,
        consents=ConsentService(uows, connectors, clock, keys, operator_org(),
                                privacy_policy_url()),
        accuracy=AccuracyService(uows, connectors, clock, corrections or CorrectionsByDelivery(
            InboxCorrectionNotifier(clock), envelopes, clock, operator_org())),
        accounts=accounts,
        single_sign_on=SingleSignOnService(
            uows, clock, AuthlibOpenIdClient(read_secret, settings().one_login_identity_key),
            accounts, identity, one_login_for(), operator_org()),
        dashboard=DashboardService(SqlDecisionLog(engine), uows, clock),
        life_events=LifeEventService(
            uows, clock, envelopes, operator_org(), doorbell,
            IntakeClaims(doorbell, durability(engine), timedelta(seconds=delivery_lease())),
            one_transaction=engine.dialect.name == "postgresql"),
        delivery=DeliveryService(uows, clock, envelopes, keys, operator_org(),
                                   RetryPolicy(*delivery_retry()),
                                   lease=timedelta(seconds=delivery_lease()),
                                   doorbell=doorbell),
        catalogue=CatalogueService(uows),
        register=RegisterService(uows, clock),
        work_queue=WorkQueueService(uows, clock),
        health=HealthService(SqlDatabase(engine), audit, key_service),
        keys=key_service,
        people=PeopleService(SqlPersonIdentifiers(engine), uows, clock),
        members=MembersService(uows, clock, keys, audit, operator_org()),
        entry_verification=EntryVerifier(audit, keys),
        org_keys=OrgKeyService(uows, clock),
        datasets=DatasetService(uows, connectors, clock, connector_hosts()),
        web_forms_key=partial(secrets.get, WEB_FORMS_SECRET),
        durability=durability(engine),
        timestamps=timestamps_for(uows, clock),
        witnesses=witnesses_of,
        witness=witness_for(uows, clock),
        bundles=BundleService(uows, clock, BundleKeys(
            keys.jwks, lambda: [e.witness.vkey for e in witnesses_of.endpoints],
            tsa_roots_pem), origin=witnesses_of.origin, log_org=operator_org()),
    )


def one_login_for() -> OneLogin | None:
    """GOV.UK One Login as configured (ONCEONLY_ONE_LOGIN_*), if it is."""
    chosen = settings()
    if not chosen.one_login_issuer:
        return None
    return OneLogin(Client(chosen.one_login_issuer, chosen.one_login_client_id,
                           ClientAuth.PRIVATE_KEY_JWT, chosen.one_login_key,
                           ("openid",)),
                    chosen.one_login_vtr, chosen.one_login_identity_issuer)


def timestamps_for(uows: SqlUnitOfWorkFactory, clock: Clock,
                   urls: list[str] | None = None) -> TimestampService:
    """Timestamping of tree heads by the configured authorities (ONCEONLY_TSA_URLS, or
    `urls`), checked against ONCEONLY_TSA_ROOTS."""
    roots_file = timestamp_roots_file()

    def roots() -> list:
        return load_roots(roots_file.read_bytes()) if roots_file is not None else []

    return TimestampService(
        uows, clock,
        [HttpTimestampAuthority(url) for url in (timestamp_authorities() if urls is None
                                                 else urls)],
        roots, latest_only=timestamp_every() > 0)


def tsa_roots_pem() -> list[str]:
    """The certificates in ONCEONLY_TSA_ROOTS, one PEM each (what a bundle carries)."""
    roots_file = timestamp_roots_file()
    if roots_file is None:
        return []
    return [cert.public_bytes(Encoding.PEM).decode()
            for cert in load_roots(roots_file.read_bytes())]


def witnesses_for(uows: SqlUnitOfWorkFactory, clock: Clock,
                  configured: list[tuple[str, str]] | None = None,
                  origin: str | None = None) -> WitnessesService:
    """The log's witnesses (ONCEONLY_WITNESSES, or `configured` `(url, vkey)` pairs), its
    origin ONCEONLY_LOG_ORIGIN (or `origin`)."""
    pairs = witnesses() if configured is None else configured
    return WitnessesService(uows, clock, origin or log_origin(),
                            [HttpWitness(parse_vkey(vkey), url) for url, vkey in pairs])


def witness_for(uows: SqlUnitOfWorkFactory, clock: Clock, *, key_file: Path | None = None,
                logs_file: Path | None = None, name: str | None = None) -> WitnessService:
    """This exchange as a witness: its key ONCEONLY_WITNESS_KEY_FILE (none: not a witness),
    the logs it watches ONCEONLY_WITNESS_LOGS, its name ONCEONLY_WITNESS_NAME."""
    key_path = key_file or witness_key_file()
    logs_path = logs_file or witness_logs_file()
    watched = {}
    if key_path is not None and logs_path is not None:
        for entry in json.loads(logs_path.read_text())["logs"]:
            watched[entry["origin"]] = WatchedLog(entry["origin"], entry["jwks"],
                                                  entry.get("log_org", operator_org()))
    key = functools.cache(lambda: load_key(key_path.read_bytes())) if key_path else None
    return WitnessService(uows, clock, name or witness_name(), key, watched)


def envelopes_for(engine: Engine, master_keys: MasterKeys | None = None,
                  clock: Clock | None = None) -> Envelopes:
    """Envelope encryption of what the database at `engine` stores: with `master_keys`, by
    default the key file from configuration (made when first needed if none is configured),
    for code that writes keys without a whole exchange (the tests' fixtures, benchmarks)."""
    return Envelopes(master_keys or FileMasterKeys.from_config(engine.url),
                     SqlDataKeyStore(engine), clock or SystemClock())


def webhook_transport(*, timeout: float, max_connections: int) -> AiohttpTransport:
    """How a delivery worker POSTs webhooks; made inside the worker's event loop."""
    # Deferred on purpose: aiohttp is start-up time that only a delivery worker needs.
    from onceonly.adapters.webhooks import AiohttpTransport

    return AiohttpTransport(timeout=timeout, max_connections=max_connections)
