"""Many rows into one table with the driver's own executemany: for loading a large world
(the demo's person index and its providers' stores) in reasonable time."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Table


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
