"""Witnesses' cosignatures of the audit log's signed tree heads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from onceonly.adapters.db import tables as t
from onceonly.services.ports.witnesses import Cosignature

_COSIGNATURES = t.audit_head_cosignatures


def _cosignature(row: Row[Any]) -> Cosignature:
    return Cosignature(int(row.tree_size), row.witness, int(row.timestamp),
                       bytes(row.signature))


class SqlCosignatures:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, cosignature: Cosignature) -> None:
        self.conn.execute(insert(_COSIGNATURES).values(
            tree_size=cosignature.tree_size, witness=cosignature.witness,
            timestamp=cosignature.timestamp, signature=cosignature.signature))

    def of(self, tree_size: int) -> list[Cosignature]:
        return [_cosignature(row) for row in self.conn.execute(
            select(_COSIGNATURES).where(_COSIGNATURES.c.tree_size == tree_size)
            .order_by(_COSIGNATURES.c.witness))]

    def latest_size(self, witness: str) -> int | None:
        size = self.conn.execute(select(func.max(_COSIGNATURES.c.tree_size))
                                 .where(_COSIGNATURES.c.witness == witness)).scalar()
        return None if size is None else int(size)

    def listed(self) -> list[Cosignature]:
        return [_cosignature(row) for row in self.conn.execute(
            select(_COSIGNATURES).order_by(_COSIGNATURES.c.tree_size,
                                           _COSIGNATURES.c.witness))]
