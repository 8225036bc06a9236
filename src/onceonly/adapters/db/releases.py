"""A release's writes: count it against the agreement's limits, note it for the anomaly
rules and append its audit entry, in as few round trips as the database allows.

PostgreSQL: one statement (data-modifying CTEs), where a round trip costs more than the
statement; a permitted release's statement is its own transaction (`alone`), so BEGIN and
COMMIT cost no round trips either. Every count is moved under its row's lock and
the limits are checked on the counts it leaves; an officer suspended from the provider's
data, or a limit reached, writes no note and no entry, and the caller rolls back, so the
counts stay as they were. Locks are taken in one order by every release (the person's
row, the day's row, the use count, the audit counter), so concurrent releases queue and
never deadlock; the audit counter's lock, the one every release shares, is taken last and
held shortest.

SQLite: the same writes as separate statements (SqlUsage.count, SqlActivity.record,
SqlAuditLog.record): in-process a statement costs no round trip, and the database's one
write lock makes them atomic together.

Both follow domain/limits.py: SQLite calls its `release_refusal` on the counts it leaves,
PostgreSQL's statement checks `LIMITS` in their order; tests/integration/test_limits_rule.py
holds both to it.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.anomaly import OFFICER_SUSPENDED, SqlActivity
from onceonly.adapters.db.audit import APPEND_TYPES, SqlAuditLog, append_params, pg_append_ctes
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.limits import (
    LIMITS,
    Counts,
    counts_persons,
    counts_uses,
    release_refusal,
)
from onceonly.domain.reasons import Reason

# Where the statement holds each count of domain.limits.Counts.
_PG_COUNT = {"queries_today": "day.count", "uses": "used.uses", "persons_today": "day.persons"}
_PERMITTED = "EXISTS (SELECT 1 FROM verdict WHERE refused IS NULL)"


@functools.lru_cache(maxsize=32)
def _pg_release(persons: bool, uses: bool, note: bool, audit: bool,
                alone: bool = False) -> DriverStatement:
    """The statement for one shape of agreement (people counted? a use count?). Releases
    write the note and the entry; the benchmarks leave either out, to measure its cost.
    Returns (refused reason or NULL, audit index or NULL). `alone`: for a statement that is
    its own transaction, a refusal fails it (division by zero, _REFUSED_ALONE), so that
    the counts it moved are never committed."""
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
    # As limits.release_refusal: a suspended officer first; then LIMITS in their order.
    checks = ["WHEN EXISTS (SELECT 1 FROM officer_suspensions WHERE officer_id = "
              ":suspended_officer AND provider_id = :suspended_from AND lifted_at IS NULL) "
              f"THEN '{Reason.OFFICER_SUSPENDED.value}'"]
    counted = {"queries_today": True, "uses": uses, "persons_today": persons}
    checks += [f"WHEN {_PG_COUNT[limit.count]} > :max_{limit.count} THEN '{limit.reason.value}'"
               for limit in LIMITS if counted[limit.count]]
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
    fail_if_refused = ", 1 / (CASE WHEN refused IS NULL THEN 1 ELSE 0 END)" if alone else ""
    return DriverStatement(text(f"WITH {', '.join(ctes)} SELECT refused, {seq} AS seq"
                                f"{fail_if_refused} FROM verdict").bindparams(*types))


# How a release written alone says it was refused: its statement fails, moving nothing.
_REFUSED_ALONE = "22012"  # SQLSTATE division_by_zero




def _count_day_statement(dialect_insert: Any) -> Any:
    """Count one more query, and the person if new, in the day's row (made on the day's
    first query); the counts it leaves come back. It waits for the row's lock, so racing
    requests count one after another and each sees the counts before its own."""
    statement = dialect_insert(t.query_usage).values(
        agreement_id=bindparam("agreement_id"), day=bindparam("day"), count=1,
        persons=bindparam("new_person"))
    return statement.on_conflict_do_update(
        index_elements=[t.query_usage.c.agreement_id, t.query_usage.c.day],
        set_={"count": t.query_usage.c.count + 1,
              "persons": t.query_usage.c.persons + statement.excluded.persons},
    ).returning(t.query_usage.c.count, t.query_usage.c.persons)


def _take_use_statement(dialect_insert: Any) -> Any:
    """Count one more of an agreement's uses, as _count_day_statement does a day's."""
    statement = dialect_insert(t.agreement_uses).values(
        agreement_id=bindparam("agreement_id"), uses=1)
    return statement.on_conflict_do_update(
        index_elements=[t.agreement_uses.c.agreement_id],
        set_={"uses": t.agreement_uses.c.uses + 1},
    ).returning(t.agreement_uses.c.uses)


def _new_person_statement(dialect_insert: Any) -> Any:
    """Note the person for the day; a row comes back only if they are new today."""
    return dialect_insert(t.person_usage).values(
        agreement_id=bindparam("agreement_id"), day=bindparam("day"),
        person_key=bindparam("person_key"),
    ).on_conflict_do_nothing().returning(t.person_usage.c.person_key)


_DIALECT_INSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_COUNT_DAY = {name: DriverStatement(_count_day_statement(i))
              for name, i in _DIALECT_INSERT.items()}
_TAKE_USE = {name: DriverStatement(_take_use_statement(i)) for name, i in _DIALECT_INSERT.items()}
_NEW_PERSON = {name: DriverStatement(_new_person_statement(i))
               for name, i in _DIALECT_INSERT.items()}


class SqlUsage:
    """An agreement's use counts, moved one release at a time."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self, agreement: Agreement, day: date, person_key: str | None) -> Counts:
        """Count one more release and return the counts it leaves. Every count moves under
        its row's lock, so of racing requests each sees the counts before its own. The
        locks are taken in one order (the person, the day, the uses), as on PostgreSQL."""
        conn, dialect = self.conn, self.conn.dialect.name
        day_of = {"agreement_id": agreement.id, "day": day}
        persons_counted = counts_persons(agreement, person_key)
        new_person = int(persons_counted and bool(
            _NEW_PERSON[dialect].run(conn, {**day_of, "person_key": person_key})))
        [(count, persons)] = _COUNT_DAY[dialect].run(conn, {**day_of, "new_person": new_person})
        uses = (_TAKE_USE[dialect].run(conn, {"agreement_id": agreement.id})[0][0]
                if counts_uses(agreement) else None)
        return Counts(count, uses, persons if persons_counted else None)


class SqlReleases:
    """What a release writes: its counts, its anomaly note and its audit entry."""

    def __init__(self, conn: Connection, usage: SqlUsage, activity: SqlActivity,
                 audit: SqlAuditLog) -> None:
        self.conn, self.usage, self.activity, self.audit = conn, usage, activity, audit

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        if self.conn.dialect.name == "postgresql":
            return self._in_one_statement(agreement, day, person_key, note, consumer_id,
                                         entry, at)
        refused = self.refusal(agreement, day, person_key, note, entry)
        if refused is not None:
            return refused
        self.activity.record(note, consumer_id)
        return self.audit.record(entry, at)

    def alone(self, agreement: Agreement, day: date, person_key: str | None, note: Activity,
              consumer_id: str, entry: AuditEntry, at: datetime) -> int | None:
        """PostgreSQL, on a connection outside any transaction: the release as one statement
        that is its own transaction, committed (its WAL flushed) when it returns, sparing
        the round trips of BEGIN and COMMIT. The entry's index; None if refused, having
        written nothing: the caller asks again in a transaction, where `release` says why
        (a refusal is rare; its reason is not worth a second statement shape)."""
        statement = _pg_release(counts_persons(agreement, person_key), counts_uses(agreement),
                                True, True, alone=True)
        try:
            [(_refused, seq, _)] = statement.run(self.conn, pg_release_params(
                agreement, day, person_key, note, consumer_id, entry, at))
        except self.conn.dialect.loaded_dbapi.Error as error:
            if getattr(error, "sqlstate", None) == _REFUSED_ALONE:
                return None
            raise
        return int(seq)

    def refusal(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, entry: AuditEntry) -> Reason | None:
        """SQLite: count the release, then decide on the counts it leaves (a refusal leaves
        them moved; the caller does not commit, and they move back)."""
        suspended = bool(OFFICER_SUSPENDED.run(self.conn, {"officer_id": note.officer_id,
                                                           "provider_id": entry.provider_id}))
        return release_refusal(suspended, agreement, self.usage.count(agreement, day,
                                                                      person_key))

    def _in_one_statement(self, agreement: Agreement, day: date, person_key: str | None,
                         note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                         ) -> Reason | int:
        statement = _pg_release(counts_persons(agreement, person_key), counts_uses(agreement),
                                True, True)
        [(refused, seq)] = statement.run(self.conn, pg_release_params(
            agreement, day, person_key, note, consumer_id, entry, at))
        return Reason(refused) if refused is not None else int(seq)


def pg_release_params(agreement: Agreement, day: date, person_key: str | None,
                      note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                      ) -> dict[str, Any]:
    """The parameters of _pg_release's statement, whichever parts it has."""
    return {
        "usage_agreement": agreement.id, "usage_day": day, "usage_person": person_key,
        **{f"max_{limit.count}": limit.maximum(agreement) for limit in LIMITS},
        "suspended_officer": note.officer_id, "suspended_from": entry.provider_id,
        "note_at": note.at, "note_officer": note.officer_id, "note_consumer": consumer_id,
        "note_agreement": note.agreement_id, "note_person": note.person_key,
        "note_number": note.number, **append_params(entry, at)}
