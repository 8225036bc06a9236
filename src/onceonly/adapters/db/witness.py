"""What this exchange, as a witness, last cosigned of each log it watches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, text

from onceonly.adapters.db import tables as t
from onceonly.services.ports.witness import Checkpoint

_CHECKPOINTS = t.witness_checkpoints
# Per schema and origin: witnesses sharing one PostgreSQL database do not wait on each other.
_ORIGIN_LOCK = text("SELECT pg_advisory_xact_lock("
                    "hashtext(current_schema() || '.onceonly.witness.' || :origin))")


def _checkpoint(row: Row[Any]) -> Checkpoint:
    return Checkpoint(row.origin, int(row.tree_size), bytes(row.root_hash), row.cosigned_at)


class SqlWitnessCheckpoints:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock(self, origin: str) -> None:
        # SQLite: a write unit of work already holds the database's only write lock.
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_ORIGIN_LOCK, {"origin": origin})

    def get(self, origin: str) -> Checkpoint | None:
        row = self.conn.execute(select(_CHECKPOINTS)
                                .where(_CHECKPOINTS.c.origin == origin)).first()
        return _checkpoint(row) if row else None

    def save(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(delete(_CHECKPOINTS).where(_CHECKPOINTS.c.origin == checkpoint.origin))
        self.conn.execute(insert(_CHECKPOINTS).values(
            origin=checkpoint.origin, tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash, cosigned_at=checkpoint.cosigned_at))

    def listed(self) -> list[Checkpoint]:
        return [_checkpoint(row) for row in
                self.conn.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.origin))]
