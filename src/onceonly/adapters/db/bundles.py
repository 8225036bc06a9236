"""The audit entries an archive bundle holds, read in index order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit import SqlAuditLog
from onceonly.adapters.db.audit_leaves import LeafQuery, stream_leaves
from onceonly.services.ports.audit import LeafStream
from onceonly.services.ports.bundles import BundleExport

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

    def leaves(self, provider: str | None, start: datetime, end: datetime,
               below: int) -> LeafStream:
        params: dict[str, Any] = {"start": start, "end": end, "below": below}
        if provider is not None:
            params["provider"] = provider
        query = _OF_PROVIDER if provider is not None else _OF_EVERYONE
        return stream_leaves(SqlAuditLog(self.conn), query, params, batch=4096)


_PERIOD = (_LOG.at >= bindparam("start"), _LOG.at < bindparam("end"),
           _LOG.seq < bindparam("below"))
_OF_EVERYONE = LeafQuery(*_PERIOD)
_OF_PROVIDER = LeafQuery(*_PERIOD, _LOG.provider_id == bindparam("provider"))


_EXPORTS = t.audit_exports.c
_RETENTION = t.audit_retention.c


class SqlBundleExports:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, export: BundleExport) -> None:
        self.conn.execute(insert(t.audit_exports).values(
            provider_id=export.provider_id, start_at=export.start, end_at=export.end,
            tree_size=export.tree_size, entries=export.entries, sha256=export.sha256,
            exported_at=export.exported_at))

    def not_exported(self, start: int, stop: int) -> tuple[int, int | None]:
        held = exists().where(
            _EXPORTS.start_at <= _LOG.at, _LOG.at < _EXPORTS.end_at,
            _EXPORTS.tree_size > _LOG.seq,
            or_(_EXPORTS.provider_id.is_(None), _EXPORTS.provider_id == _LOG.provider_id))
        row = self.conn.execute(
            select(func.count(), func.min(_LOG.seq))
            .where(_LOG.seq >= start, _LOG.seq < stop, ~held)).one()
        return int(row[0]), None if row[1] is None else int(row[1])

    def first_at_or_after(self, at: datetime) -> int | None:
        found = self.conn.execute(select(func.min(_LOG.seq)).where(_LOG.at >= at)).scalar()
        return None if found is None else int(found)

    def pruned_below(self) -> int:
        return int(self.conn.execute(select(_RETENTION.pruned_below)
                                     .where(_RETENTION.id == 1)).scalar() or 0)

    def prune(self, below: int) -> None:
        self.conn.execute(update(t.audit_retention).where(_RETENTION.id == 1)
                          .values(pruned_below=below))
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SET LOCAL onceonly.audit_prune = 'on'"))
        self.conn.execute(delete(t.audit_log).where(_LOG.seq < below))
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SET LOCAL onceonly.audit_prune = 'off'"))
