"""What matching compares, read from the providers' own stores while a match runs and held
in memory only: the exchange keeps the resulting links and weights, never the attributes.

Store fields serve by name: `full_name`, `date_of_birth`, and the postcode of `address` or
`registered_address`. A reference person's attribute is the value most of their records
agree on, so one stale address or old name does not speak for them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Engine, MetaData, select

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.domain.errors import invalid
from onceonly.domain.identity import PAIRWISE, MatchRecord, postcode_of

_NAME, _BIRTH, _ADDRESSES = "full_name", "date_of_birth", ("address", "registered_address")


def _store(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The SQL store matching reads: the connector's own, or the read-only `match_source` an
    HTTP provider grants beside its API (its per-person API cannot list its records)."""
    source = config.get("match_source") if config.get("kind") == "http" else None
    return source if isinstance(source, Mapping) else config


def _attributes(config: Mapping[str, Any]) -> list[str]:
    config = _store(config)
    if config.get("kind") != "sql":
        return []
    columns = config.get("columns") or {}
    return [c for c in (_NAME, _BIRTH, *_ADDRESSES) if c in columns]


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class SqlMatchSources:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _datasets(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.datasets).order_by(t.datasets.c.id)))

    def _links(self) -> dict[str, dict[str, str]]:
        """scheme -> value -> person key: the whole person index (a batch job's read)."""
        by_scheme: dict[str, dict[str, str]] = defaultdict(dict)
        with self.engine.connect() as conn:
            for scheme, value, person in conn.execute(select(
                    t.person_links.c.scheme, t.person_links.c.value, t.person_links.c.person_key)):
                by_scheme[scheme][value] = person
        return by_scheme

    @staticmethod
    def _rows(config: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(provider's identifier, the fields matching uses) for every record in the store."""
        wanted = _attributes(config)
        config = _store(config)
        table = store_table(MetaData(), config)
        store = make_engine(config["url"])
        try:
            with store.connect() as conn:
                key = table.c[config["key"]]
                for row in conn.execute(select(key, *(table.c[c] for c in wanted))):
                    yield row[0], dict(zip(wanted, row[1:], strict=True))
        finally:
            store.dispose()

    def unlinked(self, org_id: str) -> tuple[str, list[MatchRecord]]:
        datasets = [d for d in self._datasets() if d.provider_id == org_id
                    and _attributes(d.connector)]
        if not datasets:
            raise invalid("nothing_to_match",
                          f"{org_id} keeps no records with a name, date of birth or address")
        scheme = datasets[0].subject_scheme
        linked = self._links().get(scheme, {})
        records = {}
        for dataset in datasets:
            if dataset.subject_scheme != scheme:
                continue
            for value, fields in self._rows(dataset.connector):
                if value not in linked and value not in records:
                    records[value] = MatchRecord(
                        value, fields.get(_NAME), _as_date(fields.get(_BIRTH)),
                        postcode_of(next((fields[a] for a in _ADDRESSES if fields.get(a)),
                                         None)))
        return scheme, [records[value] for value in sorted(records)]

    def reference(self, scheme: str) -> list[MatchRecord]:
        links = self._links()
        has_scheme = set(links.get(scheme, {}).values())
        identifiers: dict[str, list[str]] = defaultdict(list)
        for other, values in links.items():
            if other != PAIRWISE:
                for value, person in values.items():
                    identifiers[person].append(f"{other}:{value}")
        seen: dict[str, dict[str, Counter[Any]]] = defaultdict(lambda: defaultdict(Counter))
        for dataset in self._datasets():
            if dataset.subject_scheme == scheme or not _attributes(dataset.connector):
                continue
            people = links.get(dataset.subject_scheme, {})
            for value, fields in self._rows(dataset.connector):
                person = people.get(value)
                if person is None or person in has_scheme:
                    continue
                for name, found in fields.items():
                    if found is not None:
                        attribute = "postcode" if name in _ADDRESSES else name
                        seen[person][attribute][postcode_of(found) if attribute == "postcode"
                                                else found] += 1
        return [
            MatchRecord(person, _most(seen[person], _NAME), _as_date(_most(seen[person], _BIRTH)),
                        _most(seen[person], "postcode"), tuple(sorted(identifiers[person])))
            for person in sorted(seen)
        ]


def _most(counts: Mapping[str, Counter[Any]], attribute: str) -> Any:
    """The value most records agree on (ties: the smallest, so the choice is stable)."""
    counter = counts.get(attribute)
    if not counter:
        return None
    top = max(counter.values())
    return min((v for v, n in counter.items() if n == top and v is not None), default=None,
               key=str)
