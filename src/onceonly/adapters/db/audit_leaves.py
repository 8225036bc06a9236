"""The whole audit log read as leaves, fast: `audit verify` and archive bundles read every
entry, a million at a time (BENCHMARKS.md sections 4 and 15).

Rows come straight from the driver's cursor (a server-side cursor on PostgreSQL) as tuples,
with no SQLAlchemy row or result object and no column decoders, and each becomes its leaf's
bytes without an entry object (`audit.entries.stored_leaf`). A row not exactly as an append
writes it is read again the long way, through the one reader of rows (`SqlAuditLog`), which
names it unreadable or encodes it with rfc8785: so the defensive reading is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.driver import DriverStatement
from onceonly.audit.entries import AuditRecord, UnreadableEntry, stored_leaf
from onceonly.services.ports.audit import LeafStream

_LOG = t.audit_log.c
# Each column as the driver hands it over, undecoded: a row changed behind the log's back
# (text in a JSON column, garbage for a time) must not fail the whole read it is part of.
_RAW_ROWS = select(*(type_coerce(column, NullType()).label(column.name) for column in _LOG))


def raw_rows() -> Select[Any]:
    """Every column of the log, undecoded: the start of a query for read_rows."""
    return _RAW_ROWS


class RowReader(Protocol):
    """The long way: SqlAuditLog's reading of whole entries, each named if unreadable."""

    conn: Connection

    def entry(self, index: int) -> AuditRecord | UnreadableEntry | None: ...
    def read_rows(self, query: Select[Any]) -> list[AuditRecord | UnreadableEntry]: ...


def stream_leaves(log: RowReader, query: LeafQuery, params: Mapping[str, Any],
                  batch: int = 10_000) -> LeafStream:
    """Each entry of `query` as its index and leaf (or why it does not read), in index
    order, read from the driver's cursor `batch` rows at a time."""
    conn, last = log.conn, -1
    try:
        for rows in query.fast[conn.dialect.name].stream(conn, params, batch):
            for row in rows:
                leaf = quick_leaf(row)
                last = row[0]
                yield last, leaf if leaf is not None else _leaf_of(log.entry(last))
    except conn.dialect.loaded_dbapi.OperationalError as exc:
        # SQLite's driver refuses text that is not UTF-8 for the whole read; the long way
        # reads the rest with such text kept, and names the row it is in.
        if "Could not decode to UTF-8" not in str(exc):
            raise
        for record in log.read_rows(query.slow.params(**params).where(_LOG.seq > last)):
            yield record.index, _leaf_of(record)


def _leaf_of(record: AuditRecord | UnreadableEntry | None) -> bytes | UnreadableEntry:
    assert record is not None, "a row just read is there in the same transaction"
    return record if isinstance(record, UnreadableEntry) else record.leaf()


# A stored time as SQLite holds it (and PostgreSQL's to_char below writes it): the leaf
# spells it with a T and a Z.
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII)


def _leaf_time(stored: Any) -> str | None:
    if type(stored) is not str or _STORED_TIME.fullmatch(stored) is None:
        return None
    try:
        datetime.fromisoformat(stored)  # a real date and time, or the long way names it
    except ValueError:
        return None
    return f"{stored[:10]}T{stored[11:]}Z"


def quick_leaf(row: tuple[Any, ...]) -> bytes | None:
    """A row of LeafQuery's columns as its leaf, or None where it is not as appends write it."""
    (seq, at, action, outcome, reason, actor_id, org_id, agreement_id, provider_id, purpose,
     person_key, fields, values_hash, detail, hidden_until) = row
    at = _leaf_time(at)
    if at is None or type(fields) is not str or type(detail) is not str:
        return None
    if hidden_until is not None and (hidden_until := _leaf_time(hidden_until)) is None:
        return None
    try:
        fields, detail = orjson.loads(fields), orjson.loads(detail)
    except orjson.JSONDecodeError:
        return None
    return stored_leaf(seq, at, action, outcome, reason, actor_id, org_id, agreement_id,
                       provider_id, purpose, person_key, fields, values_hash, detail,
                       hidden_until)


def _leaf_columns(dialect: str) -> list[ColumnElement[Any]]:
    """The log's columns as stored, undecoded; on PostgreSQL times and JSON as SQLite keeps
    them (text), so that one reading serves both."""
    if dialect != "postgresql":
        return list(_LOG)
    spelled = literal_column("'YYYY-MM-DD HH24:MI:SS.US'")
    return [func.to_char(column, spelled) if column.name in ("at", "hidden_until")
            else cast(column, Text) if column.name in ("fields", "detail") else column
            for column in _LOG]


class LeafQuery:
    """Entries read as leaves: the fast statement per database, and the same condition
    over raw_rows() for rows read the long way. Conditions take bound parameters."""

    def __init__(self, *conditions: ColumnElement[bool]) -> None:
        self.fast = {dialect: DriverStatement(
            select(*_leaf_columns(dialect)).where(*conditions).order_by(_LOG.seq))
            for dialect in ("sqlite", "postgresql")}
        self.slow = _RAW_ROWS.where(*conditions).order_by(_LOG.seq)


BETWEEN = LeafQuery(_LOG.seq >= bindparam("start"), _LOG.seq < bindparam("stop"))
