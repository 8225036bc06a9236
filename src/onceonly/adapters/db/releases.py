"""A release's writes: count it against the agreement's limits, note it for the anomaly
rules and append its audit entry, in as few round trips as the database allows.

PostgreSQL: one statement (data-modifying CTEs) in the release's transaction, where a
round trip costs more than the statement. Every count is moved under its row's lock and
the limits are checked on the counts it leaves; an officer suspended from the provider's
data, or a limit reached, writes no note and no entry, and the caller rolls back, so the
counts stay as they were. Locks are taken in one order by every release (the person's
row, the day's row, the use count, the audit counter), so concurrent releases queue and
never deadlock; the audit counter's lock, the one every release shares, is taken last and
held shortest.

SQLite: the same writes as separate statements (SqlUsage.reserve, SqlActivity.record,
SqlAuditLog.record): in-process a statement costs no round trip, and the database's one
write lock makes them atomic together.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, text

from onceonly.adapters.db.anomaly import OFFICER_SUSPENDED, SqlActivity
from onceonly.adapters.db.audit import APPEND_TYPES, SqlAuditLog, append_params, pg_append_ctes
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.policy import Reason

if TYPE_CHECKING:
    from onceonly.adapters.db.repository import SqlUsage

_PERMITTED = "EXISTS (SELECT 1 FROM verdict WHERE refused IS NULL)"


@functools.lru_cache(maxsize=32)
def _pg_release(persons: bool, uses: bool, note: bool, audit: bool) -> DriverStatement:
    """The statement for one shape of agreement (people counted? a use count?), with or
    without the note and the entry. Returns (refused reason or NULL, audit index)."""
    ctes = []
    if persons:  # a row comes back only if the person is new today
        ctes.append("person AS (INSERT INTO person_usage (agreement_id, day, person_key) "
                    "VALUES (:usage_agreement, :usage_day, :usage_person) "
                    "ON CONFLICT DO NOTHING RETURNING 1)")
    new_person = "(SELECT count(*) FROM person)" if persons else "0"
    ctes.append("day AS (INSERT INTO query_usage AS q (agreement_id, day, count, persons) "
                f"VALUES (:usage_agreement, :usage_day, 1, {new_person}) "
                "ON CONFLICT (agreement_id, day) DO UPDATE "
                "SET count = q.count + 1, persons = q.persons + excluded.persons "
                "RETURNING q.count, q.persons)")
    if uses:
        ctes.append("used AS (INSERT INTO agreement_uses AS u (agreement_id, uses) "
                    "SELECT :usage_agreement, 1 FROM day ON CONFLICT (agreement_id) DO UPDATE "
                    "SET uses = u.uses + 1 RETURNING u.uses)")
    # A suspended officer first; then the limits in the order they are checked everywhere:
    # the day's queries, the uses, people.
    checks = ["WHEN EXISTS (SELECT 1 FROM officer_suspensions WHERE officer_id = "
              ":suspended_officer AND provider_id = :suspended_from AND lifted_at IS NULL) "
              "THEN 'officer_suspended'",
              "WHEN day.count > :max_queries THEN 'quota_exceeded'"]
    if uses:
        checks.append("WHEN used.uses > :max_uses THEN 'uses_exhausted'")
    if persons:
        checks.append("WHEN day.persons > :max_persons THEN 'person_limit_reached'")
    ctes.append(f"verdict AS (SELECT CASE {' '.join(checks)} END AS refused "
                f"FROM day{', used' if uses else ''})")
    if note:
        ctes.append("note AS (INSERT INTO activity (at, officer_id, consumer_id, agreement_id, "
                    "person_key, number, refused) SELECT :note_at, :note_officer, "
                    ":note_consumer, :note_agreement, :note_person, :note_number, false "
                    "FROM verdict WHERE refused IS NULL)")
    if audit:
        ctes.append(pg_append_ctes(_PERMITTED))
    seq = "(SELECT seq FROM entry)" if audit else "NULL"
    types = [*(APPEND_TYPES if audit else ()),
             *([bindparam("note_at", type_=UTCDateTime)] if note else [])]
    return DriverStatement(text(f"WITH {', '.join(ctes)} SELECT refused, {seq} AS seq "
                                "FROM verdict").bindparams(*types))


class SqlReleases:
    """What a release writes; all of it unless told otherwise (the benchmarks leave parts
    out, to measure what each part costs)."""

    def __init__(self, conn: Connection, usage: SqlUsage, activity: SqlActivity,
                 audit: SqlAuditLog, *, every_limit: bool = True, notes: bool = True,
                 audited: bool = True) -> None:
        self.conn, self.usage, self.activity, self.audit = conn, usage, activity, audit
        self.every_limit = every_limit  # else the day's count only
        self.notes = notes
        self.audited = audited

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        if not self.every_limit:
            agreement = dataclasses.replace(agreement, max_persons_per_day=None, max_uses=None)
        if self.conn.dialect.name == "postgresql":
            return self._in_one_statement(agreement, day, person_key, note, consumer_id,
                                          entry, at)
        if OFFICER_SUSPENDED.run(self.conn, {"officer_id": note.officer_id,
                                             "provider_id": entry.provider_id}):
            return Reason.OFFICER_SUSPENDED
        limit_reached = self.usage.reserve(agreement, day, person_key)
        if limit_reached is not None:
            return limit_reached
        if self.notes:
            self.activity.record(note, consumer_id)
        return self.audit.record(entry, at) if self.audited else -1

    def _in_one_statement(self, agreement: Agreement, day: date, person_key: str | None,
                          note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                          ) -> Reason | int:
        persons = agreement.max_persons_per_day is not None and person_key is not None
        uses = agreement.max_uses is not None
        params: dict[str, Any] = {
            "usage_agreement": agreement.id, "usage_day": day, "usage_person": person_key,
            "max_queries": agreement.max_queries_per_day, "max_uses": agreement.max_uses,
            "max_persons": agreement.max_persons_per_day,
            "suspended_officer": note.officer_id, "suspended_from": entry.provider_id}
        if self.notes:
            params.update(note_at=note.at, note_officer=note.officer_id,
                          note_consumer=consumer_id, note_agreement=note.agreement_id,
                          note_person=note.person_key, note_number=note.number)
        if self.audited:
            params.update(append_params(entry, at))
        statement = _pg_release(persons, uses, self.notes, self.audited)
        [(refused, seq)] = statement.run(self.conn, params)
        if refused is not None:
            return Reason(refused)
        return -1 if seq is None else int(seq)
