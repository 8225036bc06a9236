"""The audit entries an archive bundle holds, read in index order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit import SqlAuditLog, raw_rows
from onceonly.audit.entries import AuditRecord, UnreadableEntry

_LOG = t.audit_log.c


def _about(query: Any, provider: str | None, start: datetime, end: datetime,
           below: int) -> Any:
    query = query.where(_LOG.at >= start, _LOG.at < end, _LOG.seq < below)
    return query if provider is None else query.where(_LOG.provider_id == provider)


class SqlBundleEntries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self, provider: str | None, start: datetime, end: datetime, below: int) -> int:
        query = _about(select(func.count()).select_from(t.audit_log), provider, start, end,
                       below)
        return int(self.conn.execute(query).scalar() or 0)

    def about(self, provider: str | None, start: datetime, end: datetime, after: int,
              below: int, limit: int) -> list[AuditRecord | UnreadableEntry]:
        query = _about(raw_rows(), provider, start, end, below)
        return SqlAuditLog(self.conn).read_rows(
            query.where(_LOG.seq > after).order_by(_LOG.seq).limit(limit))
