"""The exchange's own database holds no person attributes, on SQLite and PostgreSQL.

Every provider store is read (through the connector config each dataset carries) and every
value that describes a person is collected. Then the exchange is used through its real HTTP
API -- releases that carry names, addresses and benefits across the exchange, refusals,
a revocation -- and every text and JSON column of every table in the exchange's database
is searched for those values. Identifiers may appear in the person index only.

What counts as a person's value: every value of a free-text field (names, addresses,
appointees, GP practices), every date (birth, death, passport expiry), every amount of
money large enough to be unambiguous, and every benefit and medical condition named in a
list. Fields with a small vocabulary ("married", "valid", "revoked", "British") are left
out: those words also appear, rightly, in the catalogue's descriptions and in agreements'
states, and any real leak (a cached record, logged release data) would carry the
distinctive values with it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import JSON, MetaData, String, Text, inspect, select

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit import SqlAuditLog
from onceonly.adapters.db.engine import make_engine
from onceonly.audit.entries import AuditEntry
from onceonly.bootstrap import Exchange
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.demo.population import Pools, make_person
from onceonly.demo.seed import REFERENCE_DAY, SEED, World, build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running

PEOPLE = 300
VOCABULARY = 12  # a string field with at most this many distinct values is vocabulary
MIN_AMOUNT = 10_000  # amounts of at least five digits cannot be confused with other numbers


@dataclass
class PersonValues:
    phrases: set[str]  # searched as substrings (names, addresses, dates, amounts)
    terms: set[str]  # searched as whole words (benefits, conditions)
    identifiers: set[str]  # allowed in person_links only


def store_records(exchange: Exchange) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(field description, record) for every record in every provider's own store."""
    with exchange.engine.connect() as conn:
        datasets = [row for row in conn.execute(select(t.datasets.c.fields,
                                                       t.datasets.c.connector))
                    if row.connector["kind"] == "sql"]  # registers of life events have none
    assert len(datasets) == 8
    for fields, config in datasets:
        described = {f["name"]: f for f in fields}
        table = store_table(MetaData(), config)
        engine = make_engine(config["url"])
        try:
            with engine.connect() as conn:
                rows = conn.execute(select(table)).mappings().all()
        finally:
            engine.dispose()
        assert rows, f"store {config['table']} is empty"
        for row in rows:
            yield {"key": config["key"], **described}, dict(row)


def person_values(exchange: Exchange, today: date) -> PersonValues:
    strings: dict[str, set[str]] = defaultdict(set)
    phrases: set[str] = set()
    terms: set[str] = set()
    identifiers: set[str] = set()
    for described, record in store_records(exchange):
        for name, value in record.items():
            if name == described["key"]:
                identifiers.add(value)
                continue
            if described[name]["sensitivity"] == "public" or value is None:
                continue
            if name == "registered_vehicles":  # registration marks: identifiers (vrm)
                identifiers.update(value)
            elif isinstance(value, list):
                terms.update(v for v in value if len(v) >= 3)  # not licence categories (B, AM)
            elif isinstance(value, bool):
                continue
            elif isinstance(value, int):
                if value >= MIN_AMOUNT:
                    phrases.add(str(value))
            elif isinstance(value, date):
                # The exchange writes today's date itself (a privacy assessment's date).
                if value != today:
                    phrases.add(value.isoformat())
            else:
                strings[name].add(value)
    for seen in strings.values():
        if len(seen) > VOCABULARY:
            phrases.update(s for s in seen if len(s) >= 5)
    with exchange.engine.connect() as conn:
        identifiers.update(conn.execute(select(t.person_links.c.value)).scalars())
    return PersonValues(phrases, terms, identifiers)


def exchange_text(exchange: Exchange) -> list[tuple[str, str, str]]:
    """(table, column, text) for every text and JSON value in the exchange's database."""
    with exchange.engine.connect() as conn:
        on_disk = set(inspect(conn).get_table_names())
        assert on_disk == set(t.metadata.tables) | {"alembic_version"}, \
            "a table the scan does not know about"
        out = []
        for table in t.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:  # query_usage: numbers and days only
                continue
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        rendered = value if isinstance(value, str) else json.dumps(value)
                        out.append((table.name, column.name, rendered))
    return out


def _pattern(values: Iterable[str], word: str) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(f"(?<!{word})(?:{alternatives})(?!{word})")


def leaks(dump: list[tuple[str, str, str]], values: PersonValues) -> list[tuple[str, str, str]]:
    """Every (table, column, value) where a person's value or, outside the person index, an
    identifier appears."""
    phrase = _pattern(values.phrases, "[A-Za-z0-9]")
    term = _pattern(values.terms, "[A-Za-z0-9_]")
    identifier = _pattern(values.identifiers, "[A-Za-z0-9]")
    found = []
    for table, column, text in dump:
        for pattern in (phrase, term):
            found += [(table, column, m.group()) for m in pattern.finditer(text)]
        if table != "person_links":
            found += [(table, column, m.group()) for m in identifier.finditer(text)]
    return found


def use_the_exchange(base_url: str, world: World, exchange: Exchange) -> int:
    """Releases, refusals and governance through the real API; returns the releases made."""
    people = identifiers_by_scheme(exchange)

    def as_(label: str) -> OnceonlyClient:
        return OnceonlyClient(base_url, token=world.token(label))

    dwp, council = as_("officer:GOV/DWP"), as_("officer:LA/NORTHSHIRE")
    acme, police = as_("officer:COM/ACME"), as_("officer:COM/NORTHBANK")
    met, dvla = as_("officer:POL/MET"), as_("officer:GOV/DVLA")
    released = 0
    for nino in people["nino"][:25]:
        for client, agreement, fields, purpose in (
            (dwp, 1, ["income_band"], "benefit-entitlement"),
            (council, 2, ["receives_universal_credit"], "council-tax-reduction"),
            (acme, 3, ["full_name", "address", "benefits_in_payment"], "disability-assessment"),
        ):
            try:
                client.query(agreement, "nino", nino, fields, purpose)
                released += 1
            except ExchangeError as refusal:  # e.g. HMRC holds no record of a child
                assert refusal.code in {"subject_unknown", "record_unknown"}, refusal
    for vrm in people["vrm"][:10]:
        met.query(5, "vrm", vrm, ["full_name", "address"], "crime-prevention")
        released += 1
    for action in (
        lambda: police.query(4, "northbank", people["northbank"][0], ["income_band"],
                             "mortgage-affordability"),
        lambda: dvla.query(6, "driver", people["driver"][0], ["fit_to_drive"],
                           "driver-medical-fitness"),
        lambda: dwp.query(1, "nino", people["nino"][0], ["annual_income"], "benefit-entitlement"),
        lambda: acme.query(3, "nino", "ZZ999999Z", ["full_name"], "disability-assessment"),
    ):
        with pytest.raises(ExchangeError):
            action()
    # Deaths told once: the values wait in the outbox, sealed, until delivered.
    registrar = as_("officer:GOV/GRO")
    pools = Pools.make(SEED)
    for index in range(8):
        person = make_person(SEED, index, pools, REFERENCE_DAY)
        if person.date_of_death is None and person.ids["grn"] in people["grn"]:
            registrar.report_event({
                "specversion": "1.0", "id": f"death-{index}", "source": "GOV/GRO/deaths",
                "type": "gov.onceonly.death.registered", "subject": f"grn:{person.ids['grn']}",
                "data": {"full_name": person.full_name, "date_of_death": "2026-11-20",
                         "place_of_death": person.address}})
    as_("guardian:GOV/HMRC").transition(1, "revoke", "end of the exercise")
    with pytest.raises(ExchangeError):
        dwp.query(1, "nino", people["nino"][0], ["income_band"], "benefit-entitlement")
    return released


def identifiers_by_scheme(exchange: Exchange) -> dict[str, list[str]]:
    by_scheme: dict[str, list[str]] = {}
    with exchange.engine.connect() as conn:
        for scheme, value in conn.execute(select(t.person_links.c.scheme, t.person_links.c.value)
                                          .order_by(t.person_links.c.value)):
            by_scheme.setdefault(scheme, []).append(value)
    return by_scheme


@pytest.fixture
def big_world(exchange: Exchange, db_url: str) -> World:
    return build_world(exchange, db_url, people=PEOPLE)


def test_the_exchange_database_holds_no_person_attributes(exchange, big_world, clock):
    values = person_values(exchange, clock.now().date())
    # The search is only as good as what it looks for: hundreds of people's values.
    assert len(values.phrases) > 3 * PEOPLE
    assert {"universal_credit", "state_pension"} <= values.terms
    assert values.terms & {"asthma", "diabetes", "hypertension"}
    assert len(values.identifiers) > 2 * PEOPLE

    with running(create_app(exchange)) as base_url:
        released = use_the_exchange(base_url, big_world, exchange)
    assert released >= 40

    dump = exchange_text(exchange)
    assert {table for table, _, _ in dump} >= {"audit_log", "agreements", "datasets",
                                                "person_links", "principals"}
    with exchange.engine.connect() as conn:
        assert len(conn.execute(select(t.audit_log.c.seq)).all()) > released
    assert leaks(dump, values) == []
    # Identifiers are there, in the person index (the search would have found them).
    index_text = [(tb, c, v) for tb, c, v in dump if tb == "person_links"]
    assert len(leaks(index_text, PersonValues(set(), set(), values.identifiers))) == 0
    assert sum(1 for _, c, v in index_text if c == "value" and v in values.identifiers) \
        > 2 * PEOPLE

    # The control: a person's address written where it must never be is found.
    address = next(v for v in sorted(values.phrases) if re.search(r", NS\d+ ", v))
    condition = sorted(values.terms & {"asthma", "diabetes", "hypertension"})[0]
    nino = identifiers_by_scheme(exchange)["nino"][0]
    with exchange.engine.begin() as conn:
        SqlAuditLog(conn).record(AuditEntry(
            "probe", "done", None, None,
            detail={"note": f"lives at {address}", "conditions": [condition], "who": nino},
        ), clock.now())
    caught = leaks(exchange_text(exchange), values)
    assert sorted(caught) == sorted([("audit_log", "detail", address),
                                     ("audit_log", "detail", condition),
                                     ("audit_log", "detail", nino)])
