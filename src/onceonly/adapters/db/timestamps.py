"""RFC 3161 tokens of the audit log's signed tree heads, in the exchange database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit import head_from_row
from onceonly.audit.heads import SignedTreeHead
from onceonly.services.ports.timestamps import HeadTimestamp

_STAMPS = t.audit_head_timestamps
_HEADS = t.audit_tree_heads


def _stamp(row: Row[Any]) -> HeadTimestamp:
    return HeadTimestamp(row.tree_size, row.authority, bytes(row.token), row.stamped_at)


class SqlHeadTimestamps:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, stamp: HeadTimestamp) -> None:
        self.conn.execute(insert(_STAMPS).values(
            tree_size=stamp.tree_size, authority=stamp.authority, token=stamp.token,
            stamped_at=stamp.stamped_at))

    def of(self, tree_size: int) -> HeadTimestamp | None:
        row = self.conn.execute(select(_STAMPS).where(_STAMPS.c.tree_size == tree_size)).first()
        return _stamp(row) if row else None

    def listed(self) -> list[HeadTimestamp]:
        return [_stamp(row) for row in
                self.conn.execute(select(_STAMPS).order_by(_STAMPS.c.tree_size))]

    def newest(self) -> int | None:
        size = self.conn.execute(select(func.max(_STAMPS.c.tree_size))).scalar()
        return None if size is None else int(size)

    def _after_newest(self) -> Any:
        newest = select(func.coalesce(func.max(_STAMPS.c.tree_size), -1)).scalar_subquery()
        return _HEADS.c.tree_size > newest

    def waiting(self, limit: int) -> list[SignedTreeHead]:
        rows = self.conn.execute(select(_HEADS).where(self._after_newest())
                                 .order_by(_HEADS.c.tree_size).limit(limit))
        return [head_from_row(row) for row in rows]

    def waiting_count(self) -> int:
        return int(self.conn.execute(
            select(func.count()).select_from(_HEADS).where(self._after_newest())).scalar() or 0)
