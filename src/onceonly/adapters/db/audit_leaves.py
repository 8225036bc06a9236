"""The whole audit log read as leaves, fast: `audit verify` and archive bundles read every
entry, a million at a time (BENCHMARKS.md sections 4 and 15).

Rows come straight from the driver's cursor (a server-side cursor on PostgreSQL) as tuples,
with no SQLAlchemy row or result object and no column decoders, and each becomes its leaf's
bytes without an entry object (`audit.entries.stored_leaf`). A row not exactly as an append
writes it is read again the long way, through the one reader of rows (`SqlAuditLog`), which
names it unreadable or encodes it with rfc8785: so the defensive reading is unchanged.

`audit verify` goes further on SQLite (stream_leaf_hashes): where the tree already holds an
entry's leaf hash, the database spells the leaf itself, and that is kept only where it
hashes to the tree's leaf; every other row is read the long way.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    LargeBinary,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.driver import DriverStatement
from onceonly.audit.entries import LEAF_KEYS, AuditRecord, UnreadableEntry, stored_leaf
from onceonly.audit.merkle import hash_leaves, leaf_hash
from onceonly.services.ports.audit import LeafHashBatches, LeafStream

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


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def stream_leaf_hashes(log: RowReader, start: int, stop: int, stored: Sequence[bytes],
                       batch: int = 10_000) -> LeafHashBatches:
    """Entries [start, stop) as their indexes and leaf hashes (or why one does not read), in
    index order, a batch at a time. On SQLite, for entries the tree holds a leaf hash of
    (`stored`, from `start` on), the database spells each leaf from its row and the spelling
    is kept only where it hashes to the tree's leaf: it is then the leaf's exact bytes. Any
    other row is read the long way, so it is named, or its leaf made, exactly as
    stream_leaves would; so are the rest."""
    conn = log.conn
    if conn.dialect.name == "sqlite" and stored and _SPELLED is not None:
        spelled_stop = min(stop, start + len(stored))
        for rows in _SPELLED.stream(conn, {"start": start, "stop": spelled_stop}, batch):
            indexes, leaves = list(map(_FIRST, rows)), list(map(_SECOND, rows))
            digests: list[bytes | None] = (
                [None if leaf is None else leaf_hash(leaf) for leaf in leaves]
                if None in leaves else hash_leaves(leaves))  # type: ignore[arg-type]
            # The whole batch kept in one comparison where every spelling is the tree's leaf.
            offset = indexes[0] - start
            if (digests != stored[offset:offset + len(digests)]
                    or indexes != list(range(indexes[0], indexes[0] + len(indexes)))):
                missed = [index for index, digest in zip(indexes, digests, strict=True)
                          if digest is None or digest != stored[index - start]]
                again = _read_again(log, missed) if missed else {}
                yield indexes, [again.get(index, digest)  # type: ignore[misc]
                                for index, digest in zip(indexes, digests, strict=True)]
            else:
                yield indexes, digests  # type: ignore[misc]
        start = max(start, spelled_stop)
    with closing(stream_leaves(log, BETWEEN, {"start": start, "stop": stop}, batch)) as rest:
        indexes: list[int] = []
        hashes: list[bytes | UnreadableEntry] = []
        for index, leaf in rest:
            indexes.append(index)
            hashes.append(leaf if isinstance(leaf, UnreadableEntry) else leaf_hash(leaf))
            if len(indexes) == batch:
                yield indexes, hashes
                indexes, hashes = [], []
        if indexes:
            yield indexes, hashes


def _read_again(log: RowReader, indexes: list[int]) -> dict[int, bytes | UnreadableEntry]:
    """The leaf hashes of rows whose spelling was not kept, read as stream_leaves reads
    them, in one statement (a detail whose keys were stored out of order, say)."""
    params = {"indexes": orjson.dumps(indexes).decode()}
    with closing(stream_leaves(log, _LISTED, params)) as again:
        return {index: leaf if isinstance(leaf, UnreadableEntry) else leaf_hash(leaf)
                for index, leaf in again}


# Rows by their indexes, given as a JSON array (SQLite only: for _read_again).
_LISTED = LeafQuery(_LOG.seq.in_(select(literal_column("value")).select_from(
    func.json_each(bindparam("indexes", type_=Text)))))


# -- the leaf spelled by SQLite ---------------------------------------------------------------

_RAW = {column.name: type_coerce(column, Text) for column in _LOG}
# A stored time as _STORED_TIME matches it, in GLOB's terms.
_TIME_GLOB = "-".join(["[0-9]" * 4, "[0-9]" * 2, "[0-9]" * 2]) + " " + ":".join(
    ["[0-9]" * 2] * 3) + "." + "[0-9]" * 6


def _strict_json_valid(column: ColumnElement[Any]) -> ColumnElement[Any] | None:
    """json_valid taking RFC 8259 JSON only: a JSON5 spelling (SQLite 3.42 on) must not read
    as its canonical value. None on the versions whose json_valid cannot be made strict."""
    if sqlite3.sqlite_version_info < (3, 42):
        return func.json_valid(column)
    if sqlite3.sqlite_version_info >= (3, 45):
        return func.json_valid(column, 1)
    return None


def _is(column: ColumnElement[Any], kind: str, *, optional: bool = False) -> ColumnElement[bool]:
    return or_(func.typeof(column) == kind, column.is_(None)) if optional else (
        func.typeof(column) == kind)


# Every TEXT value sorts before every BLOB, the empty one first.
_FIRST_BLOB = literal_column("x''")


def _is_text(column: ColumnElement[Any], *, optional: bool = False) -> ColumnElement[bool]:
    """Text, in a column of TEXT affinity (VARCHAR): one holds only text, BLOBs and NULLs
    (a number is stored as its text), so a comparison tells it, not a call of typeof."""
    return or_(column.is_(None), column < _FIRST_BLOB) if optional else column < _FIRST_BLOB


def _spelled_statement() -> DriverStatement | None:
    """Each row's index and its leaf as SQLite spells it (json_object, keys in RFC 8785's
    order, times as `_leaf_time` writes them), as bytes; NULL where a value is not of the
    kind an append writes, which json_object would refuse or misspell (a BLOB, text in
    an integer's place, JSON that is not RFC 8259, a time of another shape)."""
    raw = _RAW
    valid = {name: _strict_json_valid(raw[name]) for name in ("fields", "detail")}
    if any(check is None for check in valid.values()):
        return None

    def time(name: str) -> ColumnElement[Any]:
        # Its one space is the date's end, as the GLOB below holds it.
        return func.replace(raw[name], " ", "T").concat("Z")

    spelled = {"index": raw["seq"], "at": time("at"), "hidden_until": time("hidden_until"),
               "fields": func.json(raw["fields"]), "detail": func.json(raw["detail"])}
    leaf = func.json_object(*(part for key in LEAF_KEYS
                              for part in (key, spelled.get(key, raw.get(key)))))
    optional_text = ("reason", "actor_id", "org_id", "provider_id", "purpose", "person_key",
                     "values_hash")
    as_appended = and_(
        _is_text(raw["action"]), _is_text(raw["outcome"]),
        *(_is_text(raw[name], optional=True) for name in optional_text),
        _is(raw["agreement_id"], "integer", optional=True),
        _is(raw["at"], "text"), raw["at"].op("GLOB")(_TIME_GLOB),
        or_(raw["hidden_until"].is_(None),
            and_(_is(raw["hidden_until"], "text"), raw["hidden_until"].op("GLOB")(_TIME_GLOB))),
        *(and_(_is(raw[name], "text"), check) for name, check in valid.items()),
    )
    return DriverStatement(
        select(_LOG.seq, case((as_appended, cast(leaf, LargeBinary))))
        .where(_LOG.seq >= bindparam("start"), _LOG.seq < bindparam("stop"))
        .order_by(_LOG.seq))


_SPELLED = _spelled_statement()
