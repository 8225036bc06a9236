"""Both databases follow the one use-limits rule (domain/limits.py): from every state of an
agreement's counts and for every shape of its limits, a release on SQLite and on PostgreSQL
is refused exactly when, and for the reason, `release_refusal` gives."""

from __future__ import annotations

import itertools
from dataclasses import replace

from sqlalchemy import insert

from onceonly.adapters.db import tables as t
from onceonly.audit.entries import AuditEntry
from onceonly.domain.anomaly import Activity
from onceonly.domain.limits import Counts, release_refusal
from onceonly.domain.reasons import Reason

SHAPES = list(itertools.product((1, 2), (None, 1, 2), (None, 1)))  # a day, uses, people
STATES = list(itertools.product((0, 1, 2), (0, 1, 2), (0, 1), (False, True)))


def expected(agreement, queries, uses, persons, again) -> Reason | None:
    """The rule on the counts the release leaves."""
    counted_persons = agreement.max_persons_per_day is not None
    return release_refusal(False, agreement, Counts(
        queries + 1,
        uses + 1 if agreement.max_uses is not None else None,
        persons + (0 if again else 1) if counted_persons else None))


def test_each_backend_refuses_a_release_as_the_domain_rule_does(exchange, world):
    with exchange.uows() as uow:
        base = next(a for a in uow.agreements.list_for(None) if a.status.value == "approved")
    now = exchange.clock.now()
    officer = next(a.principal for a in world.accounts if a.label.startswith("officer:"))
    seen = set()
    for (per_day, max_uses, max_persons), (queries, uses, persons, again) in \
            itertools.product(SHAPES, STATES):
        if persons > queries or (again and not persons):
            continue  # a person is counted with a query; asking again needs one counted
        agreement = replace(base, max_queries_per_day=per_day, max_uses=max_uses,
                            max_persons_per_day=max_persons)
        person = "person-0" if again else "person-new"
        with exchange.uows(write=True) as uow:  # never committed: each state starts afresh
            _counts_before(uow.conn, agreement.id, now.date(), queries, uses, persons)
            released = uow.releases.release(
                agreement, now.date(), person,
                Activity(now, officer.id, agreement.id, person, 1, False), officer.org_id,
                AuditEntry(action="query.release", outcome="permit", actor_id=officer.id,
                           org_id=officer.org_id, agreement_id=agreement.id,
                           provider_id=agreement.provider_id, person_key=person),
                now)
        want = expected(agreement, queries, uses, persons, again)
        got = released if isinstance(released, Reason) else None
        assert got == want, (per_day, max_uses, max_persons, queries, uses, persons, again)
        seen.add(want)
    assert seen == {None, Reason.QUOTA_EXCEEDED, Reason.USES_EXHAUSTED,
                    Reason.PERSON_LIMIT_REACHED}


def _counts_before(conn, agreement_id, day, queries, uses, persons) -> None:
    if queries:
        conn.execute(insert(t.query_usage).values(agreement_id=agreement_id, day=day,
                                                  count=queries, persons=persons))
    if uses:
        conn.execute(insert(t.agreement_uses).values(agreement_id=agreement_id, uses=uses))
    for n in range(persons):
        conn.execute(insert(t.person_usage).values(agreement_id=agreement_id, day=day,
                                                   person_key=f"person-{n}"))
