"""Short statements on the path of every query, run on the driver's own cursor.

SQLAlchemy compiles each statement once per dialect and converts its parameters with its
own column types (a time as SQLite stores it, JSON as text); only its execution machinery
(execution context, result objects) is skipped, which in-process costs several times a
short statement (BENCHMARKS.md sections 2, 4 and 5). Rows come back as the driver gives
them: for statements whose results are numbers and text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
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
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
