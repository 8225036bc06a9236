"""The audit log and its Merkle tree in the exchange database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, or_, select, text, tuple_, update

from onceonly.adapters.db import tables as t
from onceonly.audit.entries import AuditEntry, AuditRecord
from onceonly.audit.heads import SignedTreeHead, TreeHead
from onceonly.audit.merkle import Node
from onceonly.services.ports import AuditSearch

_TAKE_INDEX = (
    update(t.audit_counter)
    .where(t.audit_counter.c.id == 1)
    .values(next_index=t.audit_counter.c.next_index + 1)
    .returning(t.audit_counter.c.next_index)
)
_INSERT = insert(t.audit_log)
_LOG = t.audit_log.c


def _record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        index=row.seq,
        at=row.at,
        entry=AuditEntry(
            action=row.action,
            outcome=row.outcome,
            actor_id=row.actor_id,
            org_id=row.org_id,
            reason=row.reason,
            agreement_id=row.agreement_id,
            provider_id=row.provider_id,
            purpose=row.purpose,
            person_key=row.person_key,
            fields=tuple(row.fields),
            values_hash=row.values_hash,
            detail=row.detail,
            hidden_until=row.hidden_until,
        ),
    )


class SqlAuditLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, entry: AuditEntry, at: datetime) -> int:
        # The counter's row lock is held until this unit of work ends: appends from every
        # process take indexes one after another, in the order they commit.
        index = self.conn.execute(_TAKE_INDEX).scalar_one() - 1
        # An entry that has no canonical form would stop the integrator for good: refuse it
        # here, where the append fails with its transaction.
        AuditRecord(index, at, entry).leaf()
        self.conn.execute(_INSERT, {
            "seq": index,
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
        })
        return int(index)

    def size(self) -> int:
        return int(self.conn.execute(select(t.audit_counter.c.next_index)).scalar_one())

    def entries(self, start: int, stop: int) -> list[AuditRecord]:
        rows = self.conn.execute(
            select(t.audit_log).where(_LOG.seq >= start, _LOG.seq < stop).order_by(_LOG.seq))
        return [_record(row) for row in rows]

    def entry(self, index: int) -> AuditRecord | None:
        row = self.conn.execute(select(t.audit_log).where(_LOG.seq == index)).first()
        return _record(row) if row else None

    def search(self, search: AuditSearch) -> list[AuditRecord]:
        query = select(t.audit_log).order_by(_LOG.seq.desc()).limit(search.limit)
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
        return [_record(row) for row in self.conn.execute(query)]


def _head(row: Row[Any]) -> SignedTreeHead:
    return SignedTreeHead(TreeHead(row.tree_size, row.root_hash, row.timestamp), row.signature)


_NODES = t.audit_nodes.c
# Per schema, so that exchanges sharing one PostgreSQL database do not wait on each other.
_INTEGRATOR_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.onceonly.audit'))")
_HEADS = t.audit_tree_heads


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
        rows = self.conn.execute(
            select(_NODES.level, _NODES.idx, _NODES.hash)
            .where(tuple_(_NODES.level, _NODES.idx).in_([tuple(n) for n in nodes])))
        return {(row.level, row.idx): bytes(row.hash) for row in rows}

    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None:
        if nodes:
            self.conn.execute(insert(t.audit_nodes), [
                {"level": level, "idx": idx, "hash": digest}
                for (level, idx), digest in nodes.items()])

    def add_head(self, signed: SignedTreeHead) -> None:
        head = signed.head
        self.conn.execute(insert(_HEADS).values(
            tree_size=head.tree_size, root_hash=head.root_hash, timestamp=head.timestamp,
            signature=signed.signature))

    def latest_head(self) -> SignedTreeHead | None:
        row = self.conn.execute(
            select(_HEADS).order_by(_HEADS.c.tree_size.desc()).limit(1)).first()
        return _head(row) if row else None

    def heads(self) -> list[SignedTreeHead]:
        return [_head(row) for row in
                self.conn.execute(select(_HEADS).order_by(_HEADS.c.tree_size))]


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
