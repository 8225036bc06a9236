"""Short statements on the path of every query, run on the driver's own cursor.

SQLAlchemy compiles each statement once per dialect and converts its parameters with its
own column types (a time as SQLite stores it, JSON as text); only its execution machinery
(execution context, result objects) is skipped, which in-process costs several times a
short statement (BENCHMARKS.md sections 2, 4 and 5). Rows come back as the driver gives
them: for statements whose results are numbers and text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order, for positional drivers
    convert: Mapping[str, Callable[[Any], Any]]  # by parameter name, where a type converts
    fixed: Mapping[str, Any]  # values written into the statement itself (`count=1`)


class DriverStatement:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        self._rows_by_dialect: dict[str, bool] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            convert, fixed = {}, {}
            for name, bind in compiled.binds.items():
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    convert[name] = process
                if not bind.required:
                    assert bind.callable is None, "a parameter computed at execution"
                    fixed[name] = bind.value
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = self._by_dialect[dialect.name] = _Compiled(compiled.string, order,
                                                               convert, fixed)
        return found

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute within `conn`'s transaction; the rows, if the statement returns any."""
        compiled = self._compiled(conn.dialect)
        values = {name: compiled.convert[name](value) if name in compiled.convert else value
                  for name, value in {**compiled.fixed, **params}.items()}
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if compiled.order is None:
                cursor.execute(compiled.sql, values)
            else:
                cursor.execute(compiled.sql, tuple(values[name] for name in compiled.order))
            return cursor.fetchall() if self._returns_rows(conn.dialect, cursor) else []
        finally:
            cursor.close()

    def _returns_rows(self, dialect: Dialect, cursor: Any) -> bool:
        """Whether the statement gives rows, learned from its first run: the same text
        always does or never does, and psycopg builds its `description` anew on every call."""
        found = self._rows_by_dialect.get(dialect.name)
        if found is None:
            found = self._rows_by_dialect[dialect.name] = cursor.description is not None
        return found

    def stream(self, conn: Connection, params: Mapping[str, Any],
               batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a long read within `conn`'s transaction, `batch` at a time, as the
        driver's tuples: on PostgreSQL from a server-side cursor (the rows stay on the
        server until fetched), on SQLite from the cursor stepping through the table."""
        compiled = self._compiled(conn.dialect)
        values = {name: compiled.convert[name](value) if name in compiled.convert else value
                  for name, value in {**compiled.fixed, **params}.items()}
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        server_side = conn.dialect.name == "postgresql" and not dbapi.autocommit  # type: ignore[attr-defined]
        cursor = (dbapi.cursor(name=f"onceonly_stream_{next(_CURSORS)}")  # type: ignore[call-arg]
                  if server_side else dbapi.cursor())
        try:
            if compiled.order is None:
                cursor.execute(compiled.sql, values)
            else:
                cursor.execute(compiled.sql, tuple(values[name] for name in compiled.order))
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()


_CURSORS = itertools.count()  # server-side cursors are named

class BulkInsert:
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
