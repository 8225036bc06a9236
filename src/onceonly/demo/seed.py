"""Builds the demo world (docs/demo-world.md) into an exchange database and the
providers' stores."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select
from sqlalchemy.engine import make_url

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.mappers import dataset_fields_to_json
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import Exchange
from onceonly.config import beside_database
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.demo.field_labels import in_words
from onceonly.demo.population import Pools, links, make_person, store_rows
from onceonly.demo.world import (
    AGREEMENTS,
    DATASETS,
    EXCHANGE_ORG,
    ORG_SCHEMES,
    ORGANISATIONS,
    REGISTERS,
    SCHEMES,
    SUBSCRIPTIONS,
)
from onceonly.domain.agreements import FieldGrant, PrivacyAssessment, Risk
from onceonly.domain.life_events import EVENT_TYPES
from onceonly.domain.organisations import Principal, Role, Scheme
from onceonly.services.agreements import DraftCommand

SEED = 20_071_120  # the day the discs went missing
# People are generated as of a fixed day, so the same seed gives the same people every day.
REFERENCE_DAY = date(2026, 11, 1)
CHUNK = 20_000  # people per transaction while building
BULK_CACHE_KIB = 16 * 1024  # SQLite page cache per store connection while building
TOKEN_DAYS = 365


class WorldExists(Exception):
    pass


@dataclass(frozen=True)
class Account:
    label: str
    principal: Principal
    token: str


@dataclass
class World:
    accounts: list[Account]
    people: int
    citizen_ids: dict[str, str]

    def token(self, label: str) -> str:
        return next(a.token for a in self.accounts if a.label == label)


def slug(org_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", org_id.lower())


def store_config(exchange_url: str, dataset_id: str, store_prefix: str) -> dict[str, object]:
    """Where a provider keeps its records: its own SQLite file in the exchange's stores
    folder (`/x/d.stores/` beside `/x/d.sqlite`), or its own schema in the same PostgreSQL
    database."""
    ds = next(d for d in DATASETS if d.id == dataset_id)
    url = make_url(exchange_url)
    config: dict[str, object] = {
        "kind": "sql",
        "table": ds.table,
        "key": ds.scheme,
        "columns": {f.name: f.type.value for f in ds.fields},
    }
    if url.get_backend_name() == "sqlite":
        folder = beside_database(url, "stores")
        config["url"] = f"sqlite:///{folder / (slug(ds.provider_id) + '.sqlite')}"
    else:
        config["url"] = url.render_as_string(hide_password=False)
        config["schema"] = f"{store_prefix}_{slug(ds.provider_id)}"
    return config


def _issue(conn: object, principal: Principal, now: datetime) -> str:
    token = new_token()
    conn.execute(insert(t.api_tokens).values(  # type: ignore[attr-defined]
        digest=token_digest(token), principal_id=principal.id, issued_at=now,
        expires_at=now + timedelta(days=TOKEN_DAYS)))
    return token


def default_store_prefix(exchange_url: str) -> str:
    """Stores are named after the exchange's own PostgreSQL schema (its search_path), so two
    exchanges in one database never share or drop each other's stores; else 'store'."""
    options = make_url(exchange_url).query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    found = re.search(r"search_path\s*=\s*\"?([A-Za-z0-9_]+)", options)
    return found.group(1) if found else "store"


def build_world(
    exchange: Exchange,
    url: str,
    *,
    people: int = 10_000,
    seed: int = SEED,
    store_prefix: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> World:
    engine = exchange.engine
    store_prefix = store_prefix or default_store_prefix(url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(t.organisations)).scalar_one():
            raise WorldExists("this database already holds a world; use a fresh one")
    now = exchange.clock.now()
    admin = _members(exchange)
    accounts = _accounts(engine, url, store_prefix, now, admin)
    citizen_ids = _population(engine, url, store_prefix, people, seed, progress)
    # The citizen account is the first living adult: their identifiers are printed for the demo.
    citizen = next(a for a in accounts if a.label == "citizen")
    with engine.begin() as conn:
        conn.execute(t.principals.update().where(t.principals.c.id == citizen.principal.id)
                     .values(person_key=citizen_ids["person_key"]))
    _agreements(exchange, accounts, now)
    return World(accounts, people, citizen_ids)


def _members(exchange: Exchange) -> Account:
    """The exchange initialised as any operator's is (`onceonly init`), and its members,
    their systems and schemes registered through the same use cases; the first
    administrator's account."""
    operator = next(o for o in ORGANISATIONS if o[0] == EXCHANGE_ORG)
    initialised = exchange.members.initialise(EXCHANGE_ORG, operator[1], days=TOKEN_DAYS)
    admin = initialised.admin
    for org_id, name, systems in ORGANISATIONS:
        if org_id != EXCHANGE_ORG:
            exchange.members.register(admin, org_id, name)
        for code, title in systems:
            exchange.members.add_system(admin, f"{org_id}/{code}", title)
    for code, name, issuer in SCHEMES:
        exchange.members.add_scheme(admin, Scheme(code, name, issuer))
    return Account("admin", admin, initialised.token)


def _accounts(engine: Engine, url: str, store_prefix: str, now: datetime,
              admin: Account) -> list[Account]:
    accounts: list[Account] = []
    providers = {d.provider_id for d in DATASETS} | {r.provider_id for r in REGISTERS}
    # Officers: at each consumer, each receiver of notifications, and the registrar at GRO.
    consumers = ({a.consumer for a in AGREEMENTS} | {s.receiver for s in SUBSCRIPTIONS}
                 | {r.provider_id for r in REGISTERS if r.provider_id != EXCHANGE_ORG})
    issuers = {(issuer, code) for code, _, issuer in SCHEMES}
    with engine.begin() as conn:
        for org_id, schemes in ORG_SCHEMES.items():
            for scheme in schemes:
                if (org_id, scheme) not in issuers:  # an issuer names people by its own
                    conn.execute(insert(t.organisation_schemes).values(org_id=org_id,
                                                                       scheme=scheme))
        for ds in DATASETS:
            conn.execute(insert(t.datasets).values(
                id=ds.id, provider_id=ds.provider_id, title=ds.title, subject_scheme=ds.scheme,
                fields=dataset_fields_to_json(ds.fields),
                connector=store_config(url, ds.id, store_prefix)))
        for register in REGISTERS:  # life events are told, not stored: no connector
            conn.execute(insert(t.datasets).values(
                id=register.id, provider_id=register.provider_id, title=register.title,
                subject_scheme="grn", event_type=register.event_type,
                fields=dataset_fields_to_json(in_words(EVENT_TYPES[register.event_type].fields)),
                connector={"kind": "events"}))

        def account(label: str, org_id: str, role: Role, name: str) -> None:
            principal = Principal(f"{slug(org_id)}.{label.split(':')[0]}", name, org_id, role)
            conn.execute(insert(t.principals).values(
                id=principal.id, name=name, org_id=org_id, role=role.value, person_key=None))
            accounts.append(Account(label, principal, _issue(conn, principal, now)))

        for org_id, name, _ in ORGANISATIONS:
            if org_id in consumers:
                account(f"officer:{org_id}", org_id, Role.OFFICER, f"Officer at {name}")
            if org_id in providers:
                account(f"guardian:{org_id}", org_id, Role.GUARDIAN, f"Data guardian, {name}")
        account("guardian-2:NHS/NHSE", "NHS/NHSE", Role.GUARDIAN,
                "Second data guardian, NHS England")
        account("manager", EXCHANGE_ORG, Role.MANAGER, "Service manager")
        accounts.append(admin)
        account("citizen", EXCHANGE_ORG, Role.CITIZEN, "Citizen")
    return accounts


class _BulkInsert:
    """Rows for one table, written with the driver's own executemany.

    Each value is encoded once, by its column type's own bind processor (lists become JSON
    text, dates ISO text on SQLite), exactly as SQLAlchemy would; what this skips is
    SQLAlchemy's per-row statement machinery, which dominates a million-person build.
    """

    def __init__(self, conn: Connection, table: Table) -> None:
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.conn = conn
        self.names = [column.name for column in table.columns]
        self.sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
                    f"({', '.join(quote(name) for name in self.names)}) "
                    f"VALUES ({', '.join(mark for _ in self.names)})")
        self.encoders = [
            (i, encode) for i, column in enumerate(table.columns)
            if (encode := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        self.rows: list[tuple[object, ...]] = []

    def add(self, values: Mapping[str, object]) -> None:
        row = [values[name] for name in self.names]
        for i, encode in self.encoders:
            row[i] = encode(row[i])
        self.rows.append(tuple(row))

    def flush(self) -> None:
        """Write the rows gathered so far in one transaction."""
        if self.rows:
            with self.conn.begin():
                self.conn.exec_driver_sql(self.sql, self.rows)  # type: ignore[arg-type]
            self.rows = []


def _population(engine: Engine, url: str, store_prefix: str, people: int, seed: int,
                progress: Callable[[int], None] | None) -> dict[str, str]:
    pools = Pools.make(seed)
    citizen: dict[str, str] = {}
    with ExitStack() as stack:
        stores: dict[str, _BulkInsert] = {}
        engines: dict[str, Engine] = {}
        for ds in DATASETS:
            config = store_config(url, ds.id, store_prefix)
            store_url = str(config["url"])
            if store_url not in engines:
                engines[store_url] = make_engine(store_url)
                stack.callback(engines[store_url].dispose)
            conn = stack.enter_context(engines[store_url].connect())
            metadata = MetaData()
            table = store_table(metadata, config)
            with conn.begin():
                if conn.dialect.name == "sqlite":
                    # A bigger page cache for the load only (these connections are not
                    # reused): the DVLA store's key arrives in random order.
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
                if config.get("schema"):
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{config["schema"]}"')
                table.drop(conn, checkfirst=True)
                metadata.create_all(conn)
            stores[ds.id] = _BulkInsert(conn, table)

        exchange_conn = stack.enter_context(engine.connect())
        person_links = _BulkInsert(exchange_conn, t.person_links)
        # The person index's lookup by person arrives in random (hashed) order: maintaining
        # it row by row rewrites most of its pages on every chunk. Build it once at the end.
        by_person = next(i for i in t.person_links.indexes if i.name == "ix_person_links_person")
        with exchange_conn.begin():
            by_person.drop(exchange_conn)

        for start in range(0, people, CHUNK):
            end = min(start + CHUNK, people)
            for index in range(start, end):
                person = make_person(seed, index, pools, REFERENCE_DAY)
                for dataset_id, row in store_rows(person, REFERENCE_DAY).items():
                    stores[dataset_id].add(row)
                key = person.person_key
                for scheme, value in links(person):
                    person_links.add({"scheme": scheme, "value": value, "person_key": key})
                if not citizen and person.date_of_death is None \
                        and person.age_on(REFERENCE_DAY) >= 30 \
                        and {"nino", "driver", "ctr", "northbank"} <= person.ids.keys():
                    citizen = {"person_key": key, "name": person.full_name, **person.ids}
            for store in stores.values():
                store.flush()
            person_links.flush()
            if progress:
                progress(end - start)

        with exchange_conn.begin():
            by_person.create(exchange_conn)
    return citizen


def _agreements(exchange: Exchange, accounts: list[Account], now: datetime) -> None:
    by_label = {a.label: a.principal for a in accounts}
    for spec in AGREEMENTS:
        provider = spec.dataset.rsplit("/", 1)[0]
        officer = by_label[f"officer:{spec.consumer}"]
        draft = exchange.agreements.draft(officer, DraftCommand(
            dataset_id=spec.dataset,
            grants=list(spec.grants),
            purpose_code=spec.purpose,
            purpose_text=spec.purpose_text,
            legal_basis=spec.basis,
            valid_from=now - timedelta(minutes=1),
            valid_until=now + spec.duration,
            max_queries_per_day=spec.per_day,
            retention_days=spec.retention_days,
            hidden_days=spec.hidden_days,
            bulk_max_records=spec.bulk_max_records,
            special_category_condition=spec.condition,
            assessment=PrivacyAssessment(spec.risk, f"Assessment for: {spec.purpose_text}",
                                         officer.name, now.date(), f"DPIA-{spec.number:03d}"),
        ))
        assert draft.id == spec.number, "demo agreements are numbered as in docs/demo-world.md"
        exchange.agreements.transition(officer, spec.number, "submit", "ready for decision")
        for approver in spec.approvers:
            guardian = by_label[f"{approver}:{provider}"]
            exchange.agreements.transition(guardian, spec.number, "approve",
                                           "assessment reviewed; purpose and fields justified")
    _subscriptions(exchange, by_label, now)


def _subscriptions(exchange: Exchange, by_label: dict[str, Principal], now: datetime) -> None:
    """Notification agreements: drafted by each receiver's guardian, approved by the
    register's."""
    for spec in SUBSCRIPTIONS:
        receiver = by_label[f"guardian:{spec.receiver}"]
        register = next(r for r in REGISTERS if r.id == spec.register)
        draft = exchange.agreements.draft(receiver, DraftCommand(
            dataset_id=spec.register,
            grants=[FieldGrant(name, name) for name in spec.fields],
            purpose_code=spec.purpose,
            purpose_text=spec.purpose_text,
            legal_basis=spec.basis,
            valid_from=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=3 * 365),
            max_queries_per_day=1,
            retention_days=365,
            assessment=PrivacyAssessment(Risk.LOW, f"Assessment for: {spec.purpose_text}",
                                         receiver.name, now.date()),
        ))
        assert draft.id is not None
        exchange.agreements.transition(receiver, draft.id, "submit", "ready for decision")
        exchange.agreements.transition(by_label[f"guardian:{register.provider_id}"], draft.id,
                                       "approve", "the receiver has a duty to know")
