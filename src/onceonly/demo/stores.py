"""The demo organisations' own stores, and what each does on each life event.

A store applies an event once: the event id goes into its `notifications_applied` table in
the same transaction as the change, so a delivery that arrives twice changes nothing the
second time. The receivers that hand events to the stores (webhooks and inbox pollers) are
in entrypoints/demo/receivers.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.demo.population import Person, Pools, make_person
from onceonly.demo.seed import REFERENCE_DAY, SEED

_T = "gov.onceonly."


def applied_table(metadata: MetaData, schema: str | None) -> Table:
    return Table("notifications_applied", metadata,
                 Column("event_id", String(64), primary_key=True),
                 Column("type", String(100), nullable=False),
                 Column("subject", String(100), nullable=False),
                 Column("applied_at", DateTime, nullable=False),
                 Column("effect", Text, nullable=False), schema=schema)


# What each organisation does on each event: columns to set, and the effect in words.
Change = tuple[dict[str, Callable[[Mapping[str, Any]], Any]], str]
EFFECTS: dict[str, dict[str, Change]] = {
    _T + "death.registered": {
        "GOV/DVLA": ({"licence_status": lambda d: "cancelled"}, "driving licence cancelled"),
        "GOV/HMPO": ({"passport_status": lambda d: "cancelled"}, "passport cancelled"),
        "LA/NORTHSHIRE": ({"electoral_registration": lambda d: False},
                          "removed from the electoral register; single-person discount "
                          "flagged for review"),
        "GOV/DWP": ({"benefits_in_payment": lambda d: [], "award_amount": lambda d: 0},
                    "benefit payments stopped"),
        "GOV/HMRC": ({}, "tax record closed; the estate's affairs opened"),
        "NHS/NHSE": ({}, "patient registration closed"),
        "GOV/VETERANS": ({"pension_in_payment": lambda d: False}, "pension stopped"),
    },
    _T + "name.changed": {
        org: ({"full_name": lambda d: d["new_full_name"]}, "name updated")
        for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO")
    } | {org: ({}, "name change noted") for org in ("LA/NORTHSHIRE", "NHS/NHSE")},
    _T + "address.changed": {
        org: ({"address": lambda d: d["new_address"]}, "address updated")
        for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "LA/NORTHSHIRE")
    } | {"NHS/NHSE": ({"registered_address": lambda d: d["new_address"]}, "address updated")},
    _T + "birth.registered": {
        "GOV/HMRC": ({}, "child benefit claim invited"),
        "NHS/NHSE": ({}, "newborn registered with a GP"),
    },
    _T + "marriage.registered": {
        org: ({"full_name": lambda d: d.get("new_full_name")}, "marital status updated")
        for org in ("GOV/HMRC", "GOV/DWP")
    },
}


@dataclass
class Store:
    """One organisation's own store: its records table, and the notifications applied."""

    org_id: str
    engine: Engine
    records: Table
    applied: Table

    def apply(self, event: Mapping[str, Any]) -> bool:
        """Apply the event once; False if this event id was applied before."""
        columns, effect = EFFECTS.get(event["type"], {}).get(self.org_id, ({}, "noted"))
        data = event.get("data") or {}
        values = {name: make(data) for name, make in columns.items()
                  if name in self.records.c and make(data) is not None}
        _scheme, value = event["subject"].split(":", 1)
        insert_ = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with self.engine.begin() as conn:
            first = conn.execute(insert_(self.applied).values(
                event_id=event["id"], type=event["type"], subject=event["subject"],
                applied_at=datetime.now(UTC).replace(tzinfo=None), effect=effect,
            ).on_conflict_do_nothing().returning(self.applied.c.event_id)).first() is not None
            if first and values:
                key = self.records.primary_key.columns.values()[0]
                conn.execute(self.records.update().where(key == value).values(**values))
        return first

    def record(self, local_id: str) -> dict[str, Any] | None:
        key = self.records.primary_key.columns.values()[0]
        with self.engine.connect() as conn:
            row = conn.execute(select(self.records).where(key == local_id)).first()
        return dict(row._mapping) if row else None

    def applied_for(self, subject: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.applied).where(self.applied.c.subject == subject)
                                .order_by(self.applied.c.applied_at))
            return [dict(row._mapping) for row in rows]


def open_stores(connectors: Mapping[str, Mapping[str, Any]], stack: ExitStack
                ) -> dict[str, Store]:
    """Each organisation's store from its dataset's connector config (one dataset each in
    the demo), with its `notifications_applied` table made if missing."""
    stores: dict[str, Store] = {}
    engines: dict[str, Engine] = {}
    for dataset_id, connector in sorted(connectors.items()):
        # An HTTP provider's store is the one behind its API (its `match_source`).
        config = (connector.get("match_source") or {}) if connector.get("kind") == "http" \
            else connector
        if config.get("kind") != "sql":
            continue
        org_id = dataset_id.rsplit("/", 1)[0]
        url = str(config["url"])
        if url not in engines:
            engines[url] = make_engine(url)
            stack.callback(engines[url].dispose)
        metadata = MetaData()
        records = store_table(metadata, config)
        applied = applied_table(metadata, config.get("schema"))
        applied.create(engines[url], checkfirst=True)
        stores[org_id] = Store(org_id, engines[url], records, applied)
    return stores


def connector_configs(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {row.id: row.connector for row in conn.execute(
            select(t.datasets.c.id, t.datasets.c.connector))}


# Everyone told of a death (docs/demo-world.md) knows a person who holds all of these.
TOLD_OF_A_DEATH = ("nino", "driver", "passport", "ctr", "nhs", "service")


def linked_people(engine: Engine, people: int, schemes: Iterable[str] = ()
                  ) -> Iterator[Person]:
    """The living people of a demo world of `people` who hold identifiers in all `schemes`
    and whom the person index links under every identifier they hold (the world plants
    some records without their links, for the matcher to find)."""
    pools = Pools.make(SEED)
    with engine.connect() as conn:
        linked = set(conn.execute(select(t.person_links.c.scheme, t.person_links.c.value)))
    wanted = set(schemes)
    for index in range(people):
        person = make_person(SEED, index, pools, REFERENCE_DAY)
        if person.date_of_death is None and wanted <= person.ids.keys() and all(
                pair in linked for pair in person.ids.items()):
            yield person


def known_everywhere(engine: Engine, people: int) -> Person | None:
    """A living person all seven organisations told of a death know: the one whose death
    the demo and the walkthrough report."""
    return next(linked_people(engine, people, TOLD_OF_A_DEATH), None)
