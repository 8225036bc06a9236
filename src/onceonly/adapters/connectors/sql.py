"""The SQL connector: reads one person's fields from a provider's own store.

A store is the provider's own database (its own SQLite file, or its own PostgreSQL
schema). The exchange reads only the columns a permitted request needs, by the provider's
own identifier for the person, and keeps nothing.

The store can be one the provider already has, laid out its own way: `table` (a table or a
view, in `schema`), the key column of any name (`key`, of `key_type` string or integer),
each field's column (`map`: field to column, where the names differ), a fixed `filter`
(column to value, e.g. only current records), reached as the provider's own read-only role
whose database URL is read from the environment (`url_env`) or a file (`url_file`), never
stored in the exchange's database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson
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
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from onceonly.adapters.db.engine import Access, make_engine
from onceonly.services.ports.connectors import ConnectorUnusable

_TYPES = {"string": String, "integer": Integer, "boolean": Boolean, "date": Date, "list": JSON}


def store_table(metadata: MetaData, config: Mapping[str, Any]) -> Table:
    """A provider store's table as a connector config describes it: the provider's key
    column, one typed column per field (`columns` maps field name to catalogue type; `map`
    names a field's column where it differs) and the fixed filter's columns."""
    mapped = config.get("map") or {}
    key_type = Integer() if config.get("key_type") == "integer" else String(64)
    columns = {mapped.get(name, name): Column(mapped.get(name, name), _TYPES[kind]())
               for name, kind in config["columns"].items()}
    for name in config.get("filter") or {}:
        columns.setdefault(name, Column(name))
    return Table(
        config["table"],
        metadata,
        Column(config["key"], key_type, primary_key=True),
        *columns.values(),
        schema=config.get("schema"),
    )


def store_url(config: Mapping[str, Any]) -> str:
    """The store's database URL: in the config (the demo's own stores), or the provider's
    credentials read from the environment or a file."""
    if "url_env" in config:
        url = os.environ.get(config["url_env"])
        if not url:
            raise ConnectorUnusable(f"${config['url_env']} (the store's URL) is not set")
        return url
    if "url_file" in config:
        try:
            return Path(config["url_file"]).read_text().strip()
        except OSError as error:
            raise ConnectorUnusable(f"the store's URL file cannot be read: {error}") from None
    return str(config["url"])


class SqlConnector:
    def __init__(self, engine: Engine, config: Mapping[str, Any]) -> None:
        self.engine = engine
        self.table = store_table(MetaData(), config)
        self.key = self.table.c[config["key"]]
        self.key_is_integer = config.get("key_type") == "integer"
        mapped = config.get("map") or {}
        # Each field's column, by the field's name.
        self.columns = {name: self.table.c[mapped.get(name, name)] for name in config["columns"]}
        self.where = [self.key == bindparam("oo_local_id"), *(
            self.table.c[name] == value for name, value in (config.get("filter") or {}).items())]
        self._server = engine.dialect.name != "sqlite"  # round trips cost; in-process not
        # One statement per set of fields asked for, built once: building a statement on
        # every read costs more than running it.
        self._selects: dict[tuple[str, ...], Select[Any]] = {}

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        unknown = set(fields) - self.columns.keys()
        if unknown:
            raise KeyError(f"store has no columns {sorted(unknown)}")
        wanted = tuple(fields)
        query = self._selects.get(wanted)
        if query is None:
            query = self._selects[wanted] = select(
                *(self.columns[name] for name in wanted)).where(*self.where)
        key = self._key(local_id)
        if key is None:
            return None
        with self.engine.connect() as conn:
            if self._server:  # one row needs no transaction: spare BEGIN and ROLLBACK
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            row = conn.execute(query, {"oo_local_id": key}).first()
        if row is None:
            return None
        # Released values must be JSON: dates travel as ISO 8601 strings.
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in zip(fields, row, strict=True)
        }

    def _key(self, local_id: str) -> str | int | None:
        if not self.key_is_integer:
            return local_id
        return int(local_id) if local_id.isdigit() else None  # no such record

    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record (a guardian's decision on an accuracy
        challenge); False if the store holds no record under `local_id`."""
        if field not in self.columns:
            raise KeyError(f"store has no column {field!r}")
        key = self._key(local_id)
        if key is None:
            return False
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table).where(*self.where)
                                  .values({self.columns[field].name: value}),
                                  {"oo_local_id": key})
        return result.rowcount == 1

    def check(self, fields: Sequence[str]) -> None:
        """Publication's try: every field mapped, and one read of their columns (no rows) as
        the connector's own role, which must be allowed to read them."""
        missing = sorted(set(fields) - self.columns.keys())
        if missing:
            raise ConnectorUnusable(f"the connector maps no column for {missing}")
        probe = select(*(self.columns[name] for name in fields), self.key).where(
            *self.where[1:]).limit(0)
        try:
            with self.engine.connect() as conn:
                conn.execute(probe).all()
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            raise ConnectorUnusable(f"the store cannot be read as configured: {reason}") \
                from None



class SqlConnectors:
    """Connectors by dataset; one engine per store URL, shared by its datasets."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._connectors: dict[tuple[str, str], SqlConnector] = {}
        self._lock = threading.Lock()

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> SqlConnector:
        if config.get("kind") != "sql":
            raise ValueError(f"dataset {dataset_id}: no connector for kind {config.get('kind')!r}")
        cache_key = (dataset_id, orjson.dumps(config, option=orjson.OPT_SORT_KEYS))
        connector = self._connectors.get(cache_key)
        if connector is None:
            with self._lock:
                url = store_url(config)
                engine = self._engines.get(url)
                if engine is None:
                    try:  # a store is the provider's: never made here
                        engine = make_engine(url, Access.EXISTING)
                    except ValueError as problem:  # no such SQLite file, or not a database URL
                        raise ConnectorUnusable(str(problem)) from None
                    self._engines[url] = engine
                connector = self._connectors[cache_key] = SqlConnector(engine, config)
        return connector

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
