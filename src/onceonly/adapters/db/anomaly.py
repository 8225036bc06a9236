"""Activity for the anomaly rules, the rules configured per consumer and officer, and the
alerts guardians act on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.driver import DriverStatement
from onceonly.domain.anomaly import Activity, Alert, Rule, Rules, layered_rules, rule
from onceonly.domain.errors import conflict

_ACTIVITY = t.activity.c
# Built once: every decision writes a note, and building a statement costs more than running it.
_NOTE = DriverStatement(insert(t.activity).values(
    {column: bindparam(column) for column in ("at", "officer_id", "consumer_id",
                                              "agreement_id", "person_key", "number", "refused")}))
_DETECTOR_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.onceonly.anomaly'))")


class SqlActivity:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, event: Activity, consumer_id: str) -> None:
        _NOTE.run(self.conn, {
            "at": event.at, "officer_id": event.officer_id, "consumer_id": consumer_id,
            "agreement_id": event.agreement_id, "person_key": event.person_key,
            "number": event.number, "refused": event.refused})

    def lock(self) -> None:
        """One detector at a time (on SQLite, a write unit of work already is)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_DETECTOR_LOCK)

    def watermark(self) -> int:
        return int(self.conn.execute(select(t.detector_state.c.last_activity_id)).scalar_one())

    def set_watermark(self, last_id: int) -> None:
        self.conn.execute(update(t.detector_state).values(last_activity_id=last_id))

    def new_since(self, last_id: int, limit: int) -> list[tuple[int, int | None]]:
        """(id, agreement id) of the activity after `last_id`, in order."""
        rows = self.conn.execute(select(_ACTIVITY.id, _ACTIVITY.agreement_id)
                                 .where(_ACTIVITY.id > last_id).order_by(_ACTIVITY.id)
                                 .limit(limit))
        return [(row.id, row.agreement_id) for row in rows]

    def recent_for(self, agreement_id: int, since: datetime, *, after_id: int = 0,
                   up_to_id: int | None = None) -> list[Activity]:
        query = (select(t.activity)
                 .where(_ACTIVITY.agreement_id == agreement_id, _ACTIVITY.at > since,
                        _ACTIVITY.id > after_id)
                 .order_by(_ACTIVITY.at, _ACTIVITY.id))
        if up_to_id is not None:
            query = query.where(_ACTIVITY.id <= up_to_id)
        rows = self.conn.execute(query)
        return [Activity(r.at, r.officer_id, r.agreement_id, r.person_key, r.number, r.refused)
                for r in rows]

    def forget_before(self, cutoff: datetime) -> None:
        """Activity older than the longest window is of no more use: it goes."""
        self.conn.execute(delete(t.activity).where(_ACTIVITY.at < cutoff))

    def rules_for(self, consumer_id: str, provider_id: str | None = None
                  ) -> tuple[Rules, dict[str, Rules]]:
        """The consumer's rules (the defaults, with its own thresholds where set) and, for
        officers with thresholds of their own, theirs. The provider's own thresholds for
        the consumer, where set, win over the operator's."""
        table = t.anomaly_rules
        of_provider = table.c.provider_id.is_(None)
        if provider_id is not None:
            of_provider = of_provider | (table.c.provider_id == provider_id)
        rows = self.conn.execute(select(table)
                                 .where(table.c.consumer_id == consumer_id, of_provider)
                                 .order_by(table.c.id)).all()
        rows.sort(key=lambda row: row.provider_id is not None)  # the provider's last
        return layered_rules((row.officer_id, rule(row.kind, row.threshold, row.window_seconds))
                             for row in rows)

    def set_rule(self, consumer_id: str, officer_id: str | None, configured: Rule,
                 provider_id: str | None = None) -> None:
        """Replace the consumer's (or the officer's) threshold for one kind of rule: the
        operator's, or the provider's own."""
        table = t.anomaly_rules
        self.conn.execute(delete(table).where(
            table.c.consumer_id == consumer_id, table.c.kind == configured.kind.value,
            table.c.officer_id.is_(None) if officer_id is None
            else table.c.officer_id == officer_id,
            table.c.provider_id.is_(None) if provider_id is None
            else table.c.provider_id == provider_id))
        self.conn.execute(insert(table).values(
            consumer_id=consumer_id, officer_id=officer_id, kind=configured.kind.value,
            threshold=configured.threshold, provider_id=provider_id,
            window_seconds=int(configured.window.total_seconds())))


def _alert(row: Any) -> Alert:
    return Alert(row.id, row.at, row.provider_id, row.consumer_id, row.agreement_id,
                 row.officer_id, row.rule, row.evidence, row.status, row.resolved_by,
                 row.resolved_at, row.resolution)


_SUSPENSIONS = t.officer_suspensions.c
# Is the officer suspended from the provider's data? (a release checks it as it is written)
OFFICER_SUSPENDED = DriverStatement(select(_SUSPENSIONS.id).where(
    _SUSPENSIONS.officer_id == bindparam("officer_id"),
    _SUSPENSIONS.provider_id == bindparam("provider_id"),
    _SUSPENSIONS.lifted_at.is_(None)).limit(1))


class SqlAlerts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def suspend_officer(self, alert_id: int, officer_id: str, provider_id: str,
                        at: datetime) -> None:
        self.conn.execute(insert(t.officer_suspensions).values(
            officer_id=officer_id, provider_id=provider_id, alert_id=alert_id,
            suspended_at=at))

    def suspended_officers(self, provider_id: str) -> set[str]:
        return set(self.conn.execute(select(_SUSPENSIONS.officer_id).where(
            _SUSPENSIONS.provider_id == provider_id, _SUSPENSIONS.lifted_at.is_(None))
        ).scalars())

    def reinstate_officer(self, alert_id: int, by: str, at: datetime) -> str | None:
        return self.conn.execute(
            update(t.officer_suspensions)
            .where(_SUSPENSIONS.alert_id == alert_id, _SUSPENSIONS.lifted_at.is_(None))
            .values(lifted_at=at, lifted_by=by).returning(_SUSPENSIONS.officer_id)).scalar()

    def add(self, at: datetime, provider_id: str, consumer_id: str, agreement_id: int,
            officer_id: str | None, rule_kind: str, evidence: dict[str, Any]) -> int:
        return int(self.conn.execute(insert(t.alerts).values(
            at=at, provider_id=provider_id, consumer_id=consumer_id, agreement_id=agreement_id,
            officer_id=officer_id, rule=rule_kind, evidence=evidence, status="open",
        ).returning(t.alerts.c.id)).scalar_one())

    def get(self, alert_id: int) -> Alert | None:
        row = self.conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id)).first()
        return _alert(row) if row else None

    def list_for(self, provider_id: str) -> list[Alert]:
        rows = self.conn.execute(select(t.alerts).where(t.alerts.c.provider_id == provider_id)
                                 .order_by(t.alerts.c.id.desc()))
        return [_alert(row) for row in rows]

    def resolve(self, alert_id: int, status: str, by: str, at: datetime, why: str) -> None:
        result = self.conn.execute(
            update(t.alerts).where(t.alerts.c.id == alert_id, t.alerts.c.status == "open")
            .values(status=status, resolved_by=by, resolved_at=at, resolution=why))
        if result.rowcount != 1:
            raise conflict("alert_resolved", f"alert {alert_id} is already resolved")
