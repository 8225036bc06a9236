"""The database's side of the readiness check."""

from __future__ import annotations

from sqlalchemy import Engine, text

from onceonly.adapters.db.migrate import current_revision, head_revision
from onceonly.services.ports.health import SchemaNotCurrent


class SqlDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.head = head_revision()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def check_migrated(self) -> None:
        revision = current_revision(self.engine)
        if revision != self.head:
            raise SchemaNotCurrent(revision, self.head)
