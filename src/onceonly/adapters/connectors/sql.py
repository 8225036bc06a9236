"""The SQL connector: reads one person's fields from a provider's own store.

A store is the provider's own database (its own SQLite file, or its own PostgreSQL
schema). The exchange reads only the columns a permitted request needs, by the provider's
own identifier for the person, and keeps nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from onceonly.adapters.db.engine import Access, make_engine
from onceonly.services.ports.connectors import ConnectorUnusable

_TYPES = {"string": String, "integer": Integer, "boolean": Boolean, "date": Date, "list": JSON}


def store_table(metadata: MetaData, config: Mapping[str, Any]) -> Table:
    """A provider store's table as a connector config describes it: the provider's key
    column and one typed column per field (`columns` maps field name to catalogue type)."""
    return Table(
        config["table"],
        metadata,
        Column(config["key"], String(64), primary_key=True),
        *(Column(name, _TYPES[kind]()) for name, kind in config["columns"].items()),
        schema=config.get("schema"),
    )


class SqlConnector:
    def __init__(self, engine: Engine, config: Mapping[str, Any]) -> None:
        self.engine = engine
        self.table = store_table(MetaData(), config)
        self.key = self.table.c[config["key"]]
        self.columns = frozenset(config["columns"])
        self._server = engine.dialect.name != "sqlite"  # round trips cost; in-process not
        # One statement per set of fields asked for, built once: building a statement on
        # every read costs more than running it.
        self._selects: dict[tuple[str, ...], Select[Any]] = {}

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        unknown = set(fields) - self.columns
        if unknown:
            raise KeyError(f"store has no columns {sorted(unknown)}")
        wanted = tuple(fields)
        query = self._selects.get(wanted)
        if query is None:
            query = self._selects[wanted] = select(
                *(self.table.c[name] for name in wanted)
            ).where(self.key == bindparam("local_id"))
        with self.engine.connect() as conn:
            if self._server:  # one row needs no transaction: spare BEGIN and ROLLBACK
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            row = conn.execute(query, {"local_id": local_id}).first()
        if row is None:
            return None
        # Released values must be JSON: dates travel as ISO 8601 strings.
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in zip(fields, row, strict=True)
        }

    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record (a guardian's decision on an accuracy
        challenge); False if the store holds no record under `local_id`."""
        if field not in self.columns:
            raise KeyError(f"store has no column {field!r}")
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table).where(self.key == local_id)
                                  .values({field: value}))
        return result.rowcount == 1


    def check(self, fields: Sequence[str]) -> None:
        """Try the store once (a dataset's publication): its table must be there with the
        key column and a column for each of `fields`; ConnectorUnusable names what is not."""
        unmapped = [name for name in fields if name not in self.columns]
        if unmapped:
            raise ConnectorUnusable(f"the connector maps no column to {', '.join(unmapped)}")
        table = self.table.name if self.table.schema is None else self.table.fullname
        try:
            with self.engine.connect() as conn:
                present = {column["name"] for column in
                           inspect(conn).get_columns(self.table.name, schema=self.table.schema)}
        except NoSuchTableError:
            raise ConnectorUnusable(f"the store has no table {table}") from None
        except (DBAPIError, OSError, ValueError) as problem:
            cause = getattr(problem, "orig", None) or problem
            raise ConnectorUnusable("the store cannot be reached: "
                                    f"{' '.join(str(cause).split())}") from None
        missing = [name for name in (self.key.name, *fields) if name not in present]
        if missing:
            raise ConnectorUnusable(f"the store's table {table} has no column "
                                    f"{', '.join(missing)}")


class SqlConnectors:
    """Connectors by dataset; one engine per store URL, shared by its datasets."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._connectors: dict[tuple[str, str], SqlConnector] = {}
        self._lock = threading.Lock()

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> SqlConnector:
        if config.get("kind") != "sql":
            raise ValueError(f"dataset {dataset_id}: no connector for kind {config.get('kind')!r}")
        cache_key = (dataset_id, json.dumps(config, sort_keys=True))
        connector = self._connectors.get(cache_key)
        if connector is None:
            with self._lock:
                engine = self._engines.get(config["url"])
                if engine is None:
                    try:  # a store is the provider's: never made here
                        engine = make_engine(config["url"], Access.EXISTING)
                    except ValueError as problem:  # no such SQLite file, or not a database URL
                        raise ConnectorUnusable(str(problem)) from None
                    self._engines[config["url"]] = engine
                connector = self._connectors[cache_key] = SqlConnector(engine, config)
        return connector

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
