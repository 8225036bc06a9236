"""The audit log and its Merkle tree in the exchange database (SQLite or PostgreSQL)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    Engine,
    Row,
    Select,
    TextClause,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit_leaves import raw_rows, stream_leaf_hashes
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.audit.entries import (
    AuditEntry,
    AuditRecord,
    UnreadableEntry,
    check_canonical,
    read_record,
)
from onceonly.audit.heads import HeadRef, SignedTreeHead, TreeHead
from onceonly.audit.merkle import Node
from onceonly.services.ports.audit import (
    AuditSearch,
    HeadsAfter,
    LeafHashBatches,
    OperatorAlert,
)

_COLUMNS = ("at", "action", "outcome", "reason", "actor_id", "org_id", "agreement_id",
            "provider_id", "purpose", "person_key", "fields", "values_hash", "detail",
            "hidden_until")
_VALUES = ", ".join(f":{column}" for column in _COLUMNS)
_INTO = f"INSERT INTO audit_log (seq, {', '.join(_COLUMNS)})"
APPEND_TYPES = (bindparam("at", type_=UTCDateTime),
                bindparam("hidden_until", type_=UTCDateTime),
                bindparam("fields", type_=JSON), bindparam("detail", type_=JSON))


def pg_append_ctes(when: str = "TRUE") -> str:
    """The append as two CTEs, `taken` and `entry` (RETURNING seq), for a statement that
    appends only `when` its condition holds. The UPDATE waits for the counter's row lock,
    then reads the latest committed value: indexes are dense and in commit order."""
    return (f"taken AS (UPDATE audit_counter SET next_index = next_index + 1 "
            f"WHERE id = 1 AND ({when}) RETURNING next_index - 1 AS seq), "
            f"entry AS ({_INTO} SELECT seq, {_VALUES} FROM taken RETURNING seq)")


# One statement per append, its index taken from the counter within it. SQLite: writers
# are serialised already, and a trigger (migration 0002) moves the counter on.
_APPEND = {
    "postgresql": DriverStatement(text(f"WITH {pg_append_ctes()} SELECT seq FROM entry"
                                       ).bindparams(*APPEND_TYPES)),
    "sqlite": DriverStatement(text(
        f"{_INTO} VALUES ((SELECT next_index FROM audit_counter WHERE id = 1), {_VALUES}) "
        "RETURNING seq").bindparams(*APPEND_TYPES)),
}


def append_params(entry: AuditEntry, at: datetime) -> dict[str, Any]:
    """The bound values of an append. An entry with no canonical form would stop the
    integrator for good: it is refused here, where the append fails with its transaction."""
    check_canonical(entry)
    return {
        "at": at,
        "action": entry.action,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "actor_id": entry.actor_id,
        "org_id": entry.org_id,
        "agreement_id": entry.agreement_id,
        "provider_id": entry.provider_id,
        "purpose": entry.purpose,
        "person_key": entry.person_key,
        "fields": list(entry.fields),
        "values_hash": entry.values_hash,
        "detail": dict(entry.detail),
        "hidden_until": entry.hidden_until,
    }


_LOG = t.audit_log.c
_RAW_ROWS = raw_rows()


_Decoders = tuple[tuple[str, Callable[[Any], Any]], ...]
_DECODERS: dict[tuple[str, str], _Decoders] = {}


def _decoders(dialect: Dialect) -> _Decoders:
    """The column types' own result processors (SQLAlchemy's), for the columns that have
    one on this dialect: applied row by row, so one that fails names its row."""
    key = (dialect.name, dialect.driver)
    if key not in _DECODERS:
        _DECODERS[key] = tuple(
            (column.name, process) for column in _LOG
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None)
    return _DECODERS[key]


def _record(row: Row[Any], dialect: Dialect) -> AuditRecord | UnreadableEntry:
    """The one place a stored row becomes an entry: every reader of the log goes through
    it, and gets the row named as unreadable rather than an exception."""
    values = dict(row._mapping)
    for name, decode in _decoders(dialect):
        try:
            values[name] = decode(values[name])
        except (ValueError, TypeError, RecursionError) as exc:
            return UnreadableEntry(row.seq, _why(name, exc))
    return read_record(row.seq, values)


def _why(column: str, exc: Exception) -> str:
    """Why a column does not decode, without its value (a parser's message may quote it)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{column} is not JSON: {exc.msg} at character {exc.pos}"
    if column in ("at", "hidden_until"):
        return f"{column} is not a stored time"
    return f"{column} does not decode ({type(exc).__name__})"


class SqlAuditLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, entry: AuditEntry, at: datetime) -> int:
        # The index is taken under a lock held until this unit of work ends (the counter's row
        # lock, or SQLite's write lock): appends from every process take indexes one after
        # another, in the order they commit.
        appended = _APPEND[self.conn.dialect.name].run(self.conn, append_params(entry, at))
        if not appended or appended[0][0] is None:
            raise RuntimeError("cannot append to the audit log: its counter row "
                               "(audit_counter) is missing; `onceonly audit verify` says more")
        return int(appended[0][0])

    def size(self) -> int | None:
        size = self.conn.execute(select(t.audit_counter.c.next_index)).scalar()
        return None if size is None else int(size)

    def pruned_below(self) -> int:
        return int(self.conn.execute(select(t.audit_retention.c.pruned_below)).scalar() or 0)

    def entries(self, start: int, stop: int) -> list[AuditRecord | UnreadableEntry]:
        return self._records(
            _RAW_ROWS.where(_LOG.seq >= start, _LOG.seq < stop).order_by(_LOG.seq))

    def entry(self, index: int) -> AuditRecord | UnreadableEntry | None:
        found = self._records(_RAW_ROWS.where(_LOG.seq == index))
        return found[0] if found else None

    def leaf_hashes(self, start: int, stop: int, stored: Sequence[bytes]) -> LeafHashBatches:
        return stream_leaf_hashes(self, start, stop, stored)

    def read_rows(self, query: Select[Any]) -> list[AuditRecord | UnreadableEntry]:
        """Entries of a query built on raw_rows(), each named unreadable where it does not
        read (for readers of the log outside this module: archive bundles)."""
        return self._records(query)

    def _records(self, query: Select[Any]) -> list[AuditRecord | UnreadableEntry]:
        try:
            return [_record(row, self.conn.dialect) for row in self.conn.execute(query)]
        except OperationalError as exc:
            # SQLite hands back stored text as it is, and its driver refuses text that is
            # not UTF-8 for the whole read: read again with such text kept (as lone
            # surrogates), so that the row it is in is named, not the read failed.
            if "Could not decode to UTF-8" not in str(exc.orig):
                raise
            dbapi = self.conn.connection.dbapi_connection
            strict = dbapi.text_factory  # type: ignore[union-attr]
            dbapi.text_factory = _keep_undecodable  # type: ignore[union-attr]
            try:
                return [_record(row, self.conn.dialect) for row in self.conn.execute(query)]
            finally:
                dbapi.text_factory = strict  # type: ignore[union-attr]

    def search(self, search: AuditSearch) -> list[AuditRecord | UnreadableEntry]:
        query = _RAW_ROWS.order_by(_LOG.seq.desc()).limit(search.limit)
        if search.before is not None:
            query = query.where(_LOG.seq < search.before)
        for column, value in ((_LOG.provider_id, search.provider_id),
                              (_LOG.org_id, search.org_id),
                              (_LOG.actor_id, search.actor_id),
                              (_LOG.person_key, search.person_key)):
            if value is not None:
                query = query.where(column == value)
        if search.actions:
            query = query.where(_LOG.action.in_(search.actions))
        if search.revealed_at is not None:
            query = query.where(or_(_LOG.hidden_until.is_(None),
                                    _LOG.hidden_until <= search.revealed_at))
        return self._records(query)


def _keep_undecodable(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def head_from_row(row: Row[Any]) -> SignedTreeHead:
    previous = (None if row.previous_size is None
                else HeadRef(row.previous_size, bytes(row.previous_root)))
    return SignedTreeHead(TreeHead(row.tree_size, bytes(row.root_hash), row.timestamp,
                                   previous), row.signature)


_NODES = t.audit_nodes.c
# Per schema, so that exchanges sharing one PostgreSQL database do not wait on each other.
_INTEGRATOR_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.onceonly.audit'))")
_HEADS = t.audit_tree_heads
_LATEST_HEAD = select(_HEADS).order_by(_HEADS.c.tree_size.desc()).limit(1)
_INSERT_NODES: dict[str, str] = {}


def _insert_nodes(dialect: Dialect) -> str:
    """audit_nodes' insert as the driver takes it (the hash as bytes on both)."""
    sql = _INSERT_NODES.get(dialect.name)
    if sql is None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = _INSERT_NODES[dialect.name] = (
            f"INSERT INTO {dialect.identifier_preparer.format_table(t.audit_nodes)} "
            f"(level, idx, hash) VALUES ({mark}, {mark}, {mark})")
    return sql


# On the driver's cursor: `audit verify` and bundles read every node, a level at a time.
_LEVEL = DriverStatement(select(_NODES.idx, _NODES.hash).where(
    _NODES.level == bindparam("level"), _NODES.idx >= bindparam("start"),
    _NODES.idx < bindparam("stop")))
_FIRST = itemgetter(0)
# The same nodes' hashes alone, in index order.
_LEVEL_HASHES = DriverStatement(select(_NODES.hash).where(
    _NODES.level == bindparam("level"), _NODES.idx >= bindparam("start"),
    _NODES.idx < bindparam("stop")).order_by(_NODES.idx))


@functools.lru_cache(maxsize=256)
def _read_nodes(count: int) -> TextClause:
    """One statement for `count` nodes, kept per count (a proof reads O(log n) of them):
    an OR of key lookups, as a row-value IN would make SQLite scan the table."""
    keys = " OR ".join(f"(level = :l{n} AND idx = :i{n})" for n in range(count))
    return text(f"SELECT level, idx, hash FROM audit_nodes WHERE {keys}")


class SqlAuditTree:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock(self) -> None:
        # SQLite: a write unit of work already holds the database's only write lock.
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_INTEGRATOR_LOCK)

    def read(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        if not nodes:
            return {}
        params = {}
        for n, (level, idx) in enumerate(nodes):
            params[f"l{n}"], params[f"i{n}"] = level, idx
        rows = self.conn.execute(_read_nodes(len(nodes)), params)
        return {(level, idx): bytes(digest) for level, idx, digest in rows}

    def level(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        rows = _LEVEL.run(self.conn, {"level": level, "start": start, "stop": stop})
        return {idx: bytes(digest) for idx, digest in rows}

    def complete_level(self, level: int, start: int, stop: int) -> list[bytes] | None:
        rows = _LEVEL_HASHES.run(self.conn, {"level": level, "start": start, "stop": stop})
        # (level, idx) is the key: as many rows as indexes asked for is every one of them.
        if len(rows) != stop - start:
            return None
        hashes = list(map(_FIRST, rows))
        return hashes if not hashes or type(hashes[0]) is bytes else list(map(bytes, hashes))

    def leaf_count(self) -> int:
        last = self.conn.execute(select(func.max(_NODES.idx)).where(_NODES.level == 0)).scalar()
        return 0 if last is None else int(last) + 1

    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None:
        # The driver's own executemany: two nodes an entry, and SQLAlchemy's parameters
        # for each cost more than the row's insert (BENCHMARKS.md section 14).
        if nodes:
            self.conn.exec_driver_sql(_insert_nodes(self.conn.dialect), [
                (level, idx, digest) for (level, idx), digest in nodes.items()])

    def add_head(self, signed: SignedTreeHead) -> None:
        head = signed.head
        previous = head.previous
        self.conn.execute(insert(_HEADS).values(
            tree_size=head.tree_size, root_hash=head.root_hash, timestamp=head.timestamp,
            signature=signed.signature,
            previous_size=previous.tree_size if previous else None,
            previous_root=previous.root_hash if previous else None))

    def latest_head(self) -> SignedTreeHead | None:
        row = self.conn.execute(_LATEST_HEAD).first()
        return head_from_row(row) if row else None

    def heads(self) -> list[SignedTreeHead]:
        return [head_from_row(row) for row in
                self.conn.execute(select(_HEADS).order_by(_HEADS.c.tree_size))]

    def heads_after(self, tree_size: int) -> HeadsAfter:
        count, oldest = self.conn.execute(
            select(func.count(), func.min(_HEADS.c.timestamp))
            .where(_HEADS.c.tree_size > tree_size)).one()
        return HeadsAfter(int(count), None if oldest is None else int(oldest))


_ALERTS = t.operator_alerts.c


def _alert(row: Row[Any]) -> OperatorAlert:
    return OperatorAlert(row.id, row.at, row.kind, row.audit_index, row.detail, row.cleared_at)


class SqlOperatorAlerts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def raise_once(self, kind: str, audit_index: int, detail: str,
                   at: datetime) -> OperatorAlert | None:
        open_already = self.conn.execute(select(_ALERTS.id).where(
            _ALERTS.kind == kind, _ALERTS.audit_index == audit_index,
            _ALERTS.cleared_at.is_(None)).limit(1)).first()
        if open_already is not None:
            return None
        row = self.conn.execute(insert(t.operator_alerts).values(
            at=at, kind=kind, audit_index=audit_index, detail=detail)
            .returning(*t.operator_alerts.c)).one()
        return _alert(row)

    def clear_before(self, kind: str, audit_index: int, at: datetime) -> list[OperatorAlert]:
        rows = self.conn.execute(
            update(t.operator_alerts)
            .where(_ALERTS.kind == kind, _ALERTS.audit_index < audit_index,
                   _ALERTS.cleared_at.is_(None))
            .values(cleared_at=at).returning(*t.operator_alerts.c))
        return [_alert(row) for row in rows]

    def listed(self, *, open_only: bool = False, limit: int = 100) -> list[OperatorAlert]:
        query = select(t.operator_alerts).order_by(_ALERTS.id.desc()).limit(limit)
        if open_only:
            query = query.where(_ALERTS.cleared_at.is_(None))
        return [_alert(row) for row in self.conn.execute(query)]


class SqlSecrets:
    """Secrets never change once made, so each process keeps the ones it has read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes:
        if name not in self._known:
            with self.engine.connect() as conn:
                value = conn.execute(select(t.exchange_secrets.c.value)
                                     .where(t.exchange_secrets.c.name == name)).scalar_one()
            with self._lock:
                self._known[name] = bytes(value)
        return self._known[name]
