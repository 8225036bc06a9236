"""The database's side of the readiness check."""

from __future__ import annotations

from sqlalchemy import Engine, text


class SqlDatabase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
