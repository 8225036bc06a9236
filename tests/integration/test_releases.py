"""A release committed by its unit of work (commit_release): durable when it returns, and a
refused one leaves nothing behind. On PostgreSQL, reading outside a transaction, the release
is one statement that is its own transaction (no BEGIN, no COMMIT of the unit of work)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.unit_of_work import SqlUnitOfWork
from onceonly.audit.entries import AuditEntry
from onceonly.domain.anomaly import Activity
from onceonly.domain.reasons import Reason


def _release(exchange, world, agreement, person: str):
    """commit_release in a query's unit of work (its reads outside a transaction)."""
    now = exchange.clock.now()
    officer = next(a.principal for a in world.accounts if a.label.startswith("officer:"))
    with exchange.uows(transaction=False) as uow:
        uow.agreements.usage(agreement.id, now.date())  # a query reads before it writes
        return uow.commit_release(
            agreement, now.date(), person,
            Activity(now, officer.id, agreement.id, person, 1, False), officer.org_id,
            AuditEntry(action="query.release", outcome="permit", actor_id=officer.id,
                       org_id=officer.org_id, agreement_id=agreement.id,
                       provider_id=agreement.provider_id, person_key=person),
            now)


def _written(exchange, agreement) -> tuple[int, int, int, int]:
    """(the day's count, its people, activity notes, audit entries), read afresh."""
    with exchange.engine.connect() as conn:
        day = conn.execute(select(t.query_usage.c.count, t.query_usage.c.persons).where(
            t.query_usage.c.agreement_id == agreement.id)).first()
        notes = conn.execute(select(func.count()).select_from(t.activity)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
    return (day[0], day[1], notes, entries) if day else (0, 0, notes, entries)


def _approved(exchange):
    with exchange.uows() as uow:
        return next(a for a in uow.agreements.list_for(None) if a.status.value == "approved")


def test_a_release_is_committed_and_a_refused_one_leaves_nothing(exchange, world):
    agreement = replace(_approved(exchange), max_queries_per_day=1, max_uses=None,
                        max_persons_per_day=5)
    _, _, notes, entries = _written(exchange, agreement)

    seq = _release(exchange, world, agreement, "person-1")
    assert isinstance(seq, int)
    assert _written(exchange, agreement) == (1, 1, notes + 1, entries + 1)

    assert _release(exchange, world, agreement, "person-2") is Reason.QUOTA_EXCEEDED
    # the refused release's count, person, note and entry were all given up
    assert _written(exchange, agreement) == (1, 1, notes + 1, entries + 1)


def test_on_postgresql_a_permitted_release_begins_no_transaction(exchange, world, monkeypatch):
    began = []
    real = SqlUnitOfWork.begin_writing
    monkeypatch.setattr(SqlUnitOfWork, "begin_writing",
                        lambda uow: (began.append(uow), real(uow))[1])
    agreement = replace(_approved(exchange), max_queries_per_day=1, max_uses=None,
                        max_persons_per_day=None)

    assert isinstance(_release(exchange, world, agreement, "person-1"), int)
    # SQLite writes in a transaction it begins; PostgreSQL's statement is its own
    assert len(began) == (0 if exchange.engine.dialect.name == "postgresql" else 1)

    # refused: asked again in a transaction, which says why and is not committed
    assert _release(exchange, world, agreement, "person-1") is Reason.QUOTA_EXCEEDED
    assert len(began) == (1 if exchange.engine.dialect.name == "postgresql" else 2)
    assert _written(exchange, agreement)[0] == 1
