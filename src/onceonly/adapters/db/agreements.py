"""Agreements in the exchange database (ports.AgreementRepository): their state and history, and
what a governed query reads of one, with its day's usage and the standing version."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.mappers import agreement_from_row, agreement_values
from onceonly.domain.agreements import Agreement, AgreementStatus, Transition
from onceonly.domain.errors import conflict
from onceonly.services.ports.agreements import AgreementSource, DayUsage

# The statements every governed query runs, built once with bound parameters: building a
# Core statement (and its cache key) on every call costs several times more than running it.
# The standing version (migration 0022): moved by every change to a principal or agreement.
_STANDING = select(t.standing_version.c.version).where(t.standing_version.c.id == 1)
_AGREEMENT_BY_ID = select(t.agreements).where(t.agreements.c.id == bindparam("agreement_id"))
_AGREEMENT_SOURCE_BY_ID = (
    select(t.agreements, t.datasets.c.subject_scheme, t.datasets.c.connector,
           t.datasets.c.fields, t.query_usage.c.count.label("queries_today"),
           _STANDING.scalar_subquery().label("standing"))
    .join(t.datasets, t.datasets.c.id == t.agreements.c.dataset_id)
    # The day's usage in the same read: one statement (a round trip) fewer per query.
    .outerjoin(t.query_usage, and_(t.query_usage.c.agreement_id == t.agreements.c.id,
                                   t.query_usage.c.day == bindparam("day")))
    .where(t.agreements.c.id == bindparam("agreement_id"))
)
# The day's count and the standing version, in one statement: while the version has not
# moved, this is all a query reads of its agreement and its caller.
_DAY_USAGE = DriverStatement(select(
    _STANDING.scalar_subquery(),
    select(t.query_usage.c.count).where(t.query_usage.c.agreement_id == bindparam("agreement_id"),
                                        t.query_usage.c.day == bindparam("day"))
    .scalar_subquery()))


class SqlAgreements:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None:
        row = self.conn.execute(_AGREEMENT_BY_ID, {"agreement_id": agreement_id}).first()
        if row is None:
            return None
        return agreement_from_row(row, self._history(agreement_id) if with_history else ())

    def get_each(self, agreement_ids: Collection[int]) -> dict[int, Agreement]:
        return {row.id: agreement_from_row(row) for row in self.conn.execute(
            select(t.agreements).where(t.agreements.c.id.in_(sorted(agreement_ids))))}

    def with_source(self, agreement_id: int, day: date | None = None
                    ) -> AgreementSource | None:
        row = self.conn.execute(_AGREEMENT_SOURCE_BY_ID,
                                {"agreement_id": agreement_id, "day": day}).first()
        if row is None:
            return None
        return AgreementSource(agreement_from_row(row), row.subject_scheme, row.connector,
                               {f["name"]: f["source"] for f in row.fields},
                               row.queries_today or 0, row.standing)

    def usage(self, agreement_id: int, day: date) -> DayUsage:
        [(version, count)] = _DAY_USAGE.run(self.conn, {"agreement_id": agreement_id,
                                                        "day": day})
        return DayUsage(count or 0, version)

    def _history(self, agreement_id: int) -> tuple[Transition, ...]:
        rows = self.conn.execute(
            select(t.agreement_transitions)
            .where(t.agreement_transitions.c.agreement_id == agreement_id)
            .order_by(t.agreement_transitions.c.id)
        )
        return tuple(
            Transition(
                at=r.at,
                actor_id=r.actor_id,
                actor_org=r.actor_org,
                action=r.action,
                from_status=AgreementStatus(r.from_status) if r.from_status else None,
                to_status=AgreementStatus(r.to_status),
                reason=r.reason,
            )
            for r in rows
        )

    def add(self, agreement: Agreement) -> int:
        new_id = self.conn.execute(
            insert(t.agreements).values(**agreement_values(agreement), version=1)
            .returning(t.agreements.c.id)
        ).scalar_one()
        self._record_history(new_id, agreement.history)
        return int(new_id)

    def save(self, agreement: Agreement) -> None:
        """Write the new state if nobody moved the agreement since it was read."""
        assert agreement.id is not None
        result = self.conn.execute(
            update(t.agreements)
            .where(t.agreements.c.id == agreement.id, t.agreements.c.version == agreement.version)
            .values(
                status=agreement.status.value,
                approvals=list(agreement.approvals),
                version=agreement.version + 1,
            )
        )
        if result.rowcount != 1:
            raise conflict(
                "concurrent_update",
                "the agreement changed while this request was being made; read it and retry",
            )
        self._record_history(agreement.id, agreement.history[-1:])

    def _record_history(self, agreement_id: int, steps: tuple[Transition, ...]) -> None:
        if not steps:
            return
        self.conn.execute(
            insert(t.agreement_transitions),
            [
                {
                    "agreement_id": agreement_id,
                    "at": s.at,
                    "actor_id": s.actor_id,
                    "actor_org": s.actor_org,
                    "action": s.action,
                    "from_status": s.from_status.value if s.from_status else None,
                    "to_status": s.to_status.value,
                    "reason": s.reason,
                }
                for s in steps
            ],
        )

    def list_for(self, org_id: str | None) -> list[Agreement]:
        query = select(t.agreements).order_by(t.agreements.c.id)
        if org_id is not None:
            query = query.where(
                (t.agreements.c.provider_id == org_id) | (t.agreements.c.consumer_id == org_id)
            )
        return [agreement_from_row(row) for row in self.conn.execute(query)]
