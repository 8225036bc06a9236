"""The organisations' data keys in the exchange database (ports.DataKeys), always wrapped."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import WRITE
from onceonly.adapters.db.writer_queue import join_writer_queue
from onceonly.services.ports.keys import DataKeyRecord

_KEYS = t.data_keys


class SqlDataKeys:
    """ports.DataKeys inside the transaction of `conn`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def active(self, org_id: str) -> DataKeyRecord | None:
        row = self.conn.execute(
            select(_KEYS).where(_KEYS.c.org_id == org_id, _KEYS.c.active.is_(True))
            .order_by(_KEYS.c.created_at.desc(), _KEYS.c.id).limit(1)).first()
        return _record(row) if row else None

    def active_of(self, org_ids: Collection[str]) -> dict[str, DataKeyRecord]:
        found: dict[str, DataKeyRecord] = {}
        for row in self.conn.execute(
                select(_KEYS).where(_KEYS.c.org_id.in_(sorted(org_ids)),
                                    _KEYS.c.active.is_(True))
                .order_by(_KEYS.c.created_at.desc(), _KEYS.c.id)):
            found.setdefault(row.org_id, _record(row))  # the newest, as `active` takes
        return found

    def get(self, key_id: str) -> DataKeyRecord | None:
        row = self.conn.execute(select(_KEYS).where(_KEYS.c.id == key_id)).first()
        return _record(row) if row else None

    def add(self, record: DataKeyRecord) -> None:
        self.conn.execute(insert(_KEYS).values(
            id=record.id, org_id=record.org_id, created_at=record.created_at,
            wrapped_key=record.wrapped, master_key_id=record.master_key_id,
            active=record.active))

    def rewrap(self, key_id: str, old_master_id: str, new_master_id: str,
               wrapped: bytes) -> bool:
        # In a savepoint: if the caller's transaction cannot write (a reader on SQLite that
        # lost the race for the lock), only this change is given up, not the transaction.
        try:
            with self.conn.begin_nested():
                done = self.conn.execute(
                    update(_KEYS).where(_KEYS.c.id == key_id,
                                        _KEYS.c.master_key_id == old_master_id)
                    .values(wrapped_key=wrapped, master_key_id=new_master_id))
        except SQLAlchemyError:
            return False
        return done.rowcount == 1

    def wrapped_by_other_than(self, master_key_id: str, after: str | None,
                              limit: int) -> list[DataKeyRecord]:
        query = select(_KEYS).where(_KEYS.c.master_key_id != master_key_id)
        if after is not None:
            query = query.where(_KEYS.c.id > after)
        return [_record(row) for row in
                self.conn.execute(query.order_by(_KEYS.c.id).limit(limit))]

    def count_by_master(self) -> dict[str, int]:
        return {master: count for master, count in self.conn.execute(
            select(_KEYS.c.master_key_id, func.count()).group_by(_KEYS.c.master_key_id))}


class SqlDataKeyStore:
    """ports.DataKeyStore: short transactions of the service's own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def __call__(self, *, write: bool = False) -> Iterator[SqlDataKeys]:
        if write:
            with write_transaction(self.engine) as conn:
                yield SqlDataKeys(conn)
        else:
            with self.engine.connect() as conn, conn.begin():
                yield SqlDataKeys(conn)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction committed at the end of the block: on SQLite it queues behind
    this process's other writers and takes the write lock up front (BEGIN IMMEDIATE), as a
    unit of work with write=True does."""
    queue = join_writer_queue(engine)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            yield conn
    finally:
        if queue is not None:
            queue.release()


def _record(row: Row[Any]) -> DataKeyRecord:
    return DataKeyRecord(id=row.id, org_id=row.org_id, wrapped=bytes(row.wrapped_key),
                         master_key_id=row.master_key_id, created_at=row.created_at,
                         active=row.active)
