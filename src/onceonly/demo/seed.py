"""Builds the demo world (docs/demo-world.md): the exchange initialised as any operator's
is, the providers' own stores made, the demo file (exchange.yaml) applied through the
exchange's use cases as `onceonly apply` would, the stores and the person index filled with
a synthetic population, a citizen's account for one of the people, and the agreements
decided by the providers' guardians."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, MetaData
from sqlalchemy.engine import make_url

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db.driver import BulkInsert
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.db.people import SqlPersonIndexLoad
from onceonly.bootstrap import Exchange
from onceonly.config import beside_database
from onceonly.declarative.apply import apply_declaration
from onceonly.declarative.document import Declaration, load
from onceonly.demo.population import Pools, links, make_person, store_rows
from onceonly.demo.world import DEMO_FILE, EXCHANGE_ORG, organisation_names
from onceonly.domain.agreements import AgreementKind, AgreementStatus
from onceonly.domain.organisations import Principal, Role
from onceonly.services.people import Issued
from onceonly.services.ports.people import PersonIndexLoad
from onceonly.services.tokens import issue_token

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


def store_location(exchange_url: str, provider_id: str, store_prefix: str) -> dict[str, str]:
    """Where a provider keeps its records: its own SQLite file in the exchange's stores
    folder (`/x/d.stores/` beside `/x/d.sqlite`), or its own schema in the same PostgreSQL
    database."""
    url = make_url(exchange_url)
    if url.get_backend_name() == "sqlite":
        folder = beside_database(url, "stores")
        return {"url": f"sqlite:///{folder / (slug(provider_id) + '.sqlite')}"}
    return {"url": url.render_as_string(hide_password=False),
            "schema": f"{store_prefix}_{slug(provider_id)}"}


def default_store_prefix(exchange_url: str) -> str:
    """Stores are named after the exchange's own PostgreSQL schema (its search_path), so two
    exchanges in one database never share or drop each other's stores; else 'store'."""
    options = make_url(exchange_url).query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    found = re.search(r"search_path\s*=\s*\"?([A-Za-z0-9_]+)", options)
    return found.group(1) if found else "store"


def demo_declaration(exchange_url: str, store_prefix: str) -> Declaration:
    """The demo file, checked against the schema, with each SQL connector told where its
    provider's store is beside this exchange."""
    declaration = load(DEMO_FILE, {})
    for _, dataset in declaration.items("datasets"):
        connector = dataset["connector"]
        if connector["kind"] == "sql":
            provider = dataset["system"].rsplit("/", 1)[0]
            connector.update(store_location(exchange_url, provider, store_prefix))
    return declaration


def build_world(
    exchange: Exchange,
    url: str,
    *,
    people: int = 10_000,
    seed: int = SEED,
    store_prefix: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> World:
    store_prefix = store_prefix or default_store_prefix(url)
    upgrade(exchange.engine)
    declaration = demo_declaration(url, store_prefix)
    # Read first, so that a second build changes nothing, not even the audit log.
    if exchange.catalogue.read().organisations:
        raise WorldExists("this database already holds a world; use a fresh one")
    initialised = exchange.members.initialise(
        EXCHANGE_ORG, organisation_names()[EXCHANGE_ORG], days=TOKEN_DAYS)
    admin = initialised.admin
    stores = _stores(declaration)
    # The stores' tables first: a dataset's connector is tried against its store when it
    # is published; the people after, as the person index links them by declared schemes.
    _make_stores(stores)
    applied = apply_declaration(exchange, admin, declaration, say=lambda _: None)
    citizen_ids = _population(SqlPersonIndexLoad(exchange.engine), stores, people, seed,
                              progress)
    accounts = [*_labelled(applied.issued), Account("admin", admin, initialised.token)]
    # The citizen's account is the first living adult's (their identifiers are printed),
    # made as `onceonly token issue --role citizen --person grn:...` makes one.
    citizen, token = issue_token(exchange.uows, exchange.clock, org_id=EXCHANGE_ORG,
                                 role=Role.CITIZEN, name="Citizen",
                                 person=f"grn:{citizen_ids['grn']}", days=TOKEN_DAYS,
                                 operator_org=EXCHANGE_ORG)
    accounts.append(Account("citizen", citizen, token))
    _decide(exchange, admin, [a.principal for a in accounts])
    return World(accounts, people, citizen_ids)


def _labelled(issued: tuple[Issued, ...]) -> list[Account]:
    """The demo's names for the people the file made: `officer:ORG`, `guardian:ORG` (and
    `guardian-2:ORG` for a second), `manager`."""
    accounts: list[Account] = []
    for person in issued:
        principal = person.principal
        role, org_id = principal.role.value, principal.org_id
        label = "manager" if principal.role is Role.MANAGER else f"{role}:{org_id}"
        if any(a.label == label for a in accounts):
            label = f"{role}-2:{org_id}"
        accounts.append(Account(label, principal, person.token))
    return accounts


def _decide(exchange: Exchange, admin: Principal, principals: list[Principal]) -> None:
    """Each submitted agreement approved by its provider's guardians, in turn, until it
    needs no other approval (a high-risk one needs two)."""
    guardians: dict[str, list[Principal]] = {}
    for principal in principals:
        if principal.role is Role.GUARDIAN:
            guardians.setdefault(principal.org_id, []).append(principal)
    for agreement in sorted(exchange.agreements.list(admin), key=lambda a: a.id or 0):
        reason = ("the receiver has a duty to know"
                  if agreement.kind is AgreementKind.NOTIFICATION
                  else "assessment reviewed; purpose and fields justified")
        status = agreement.status
        for guardian in guardians.get(agreement.provider_id, []):
            if status is not AgreementStatus.SUBMITTED:
                break
            assert agreement.id is not None
            status = exchange.agreements.transition(guardian, agreement.id, "approve",
                                                    reason).status


def _stores(declaration: Declaration) -> dict[str, Mapping[str, Any]]:
    """Each SQL dataset's connector, by dataset: the stores to fill."""
    return {dataset["system"]: dataset["connector"]
            for _, dataset in declaration.items("datasets")
            if dataset["connector"]["kind"] == "sql"}


def _make_stores(connectors: Mapping[str, Mapping[str, Any]]) -> None:
    """Each provider's store, made afresh and empty."""
    for config in connectors.values():
        engine = make_engine(str(config["url"]))
        try:
            metadata = MetaData()
            table = store_table(metadata, config)
            with engine.begin() as conn:
                if config.get("schema"):
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{config["schema"]}"')
                table.drop(conn, checkfirst=True)
                metadata.create_all(conn)
        finally:
            engine.dispose()


def _population(index: PersonIndexLoad, connectors: Mapping[str, Mapping[str, Any]],
                people: int, seed: int, progress: Callable[[int], None] | None
                ) -> dict[str, str]:
    pools = Pools.make(seed)
    citizen: dict[str, str] = {}
    with ExitStack() as stack:
        stores: dict[str, BulkInsert] = {}
        engines: dict[str, Engine] = {}
        for dataset_id, config in connectors.items():
            store_url = str(config["url"])
            if store_url not in engines:
                engines[store_url] = make_engine(store_url)
                stack.callback(engines[store_url].dispose)
            conn = stack.enter_context(engines[store_url].connect())
            if conn.dialect.name == "sqlite":
                # A bigger page cache for the load only (these connections are not
                # reused): the DVLA store's key arrives in random order.
                with conn.begin():
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            stores[dataset_id] = BulkInsert(conn, store_table(MetaData(), config))

        person_links = stack.enter_context(index.loading())
        for start in range(0, people, CHUNK):
            end = min(start + CHUNK, people)
            for number in range(start, end):
                person = make_person(seed, number, pools, REFERENCE_DAY)
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
    return citizen
