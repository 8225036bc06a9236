"""The database's side of the readiness check."""

from __future__ import annotations

from sqlalchemy import Engine, text

from onceonly.adapters.db.migrate import current_revision, head_revision, known
from onceonly.services.ports.health import SchemaNotCurrent


class SqlDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.head = head_revision()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def check_migrated(self) -> None:
        """At this code's revision; or past it, at one this code does not know: a newer
        release's migration, which only expands (docs/operations.md), so a server of this
        release that is already running stays ready while the new release rolls out."""
        revision = current_revision(self.engine)
        if revision is None or (revision != self.head and known(revision)):
            raise SchemaNotCurrent(revision, self.head)
