"""The policy decisions the manager's dashboard counts, read from the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from onceonly.adapters.db import tables as t
from onceonly.audit.entries import ACCESS_ACTIONS
from onceonly.services.ports import Decision

_LOG = t.audit_log


class SqlDecisionLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def decisions_since(self, since: datetime, limit: int) -> list[Decision]:
        # The log is ordered by seq, which follows time; no index on `at` is needed for a
        # recent window, scanned from the end.
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_LOG.c.at, _LOG.c.agreement_id, _LOG.c.outcome, _LOG.c.reason)
                .where(_LOG.c.action.in_(ACCESS_ACTIONS), _LOG.c.at >= since)
                .order_by(_LOG.c.seq.desc()).limit(limit)).all()
        return [Decision(*row) for row in reversed(rows)]
