"""Use limits, through the query service on SQLite and PostgreSQL: queries a day, distinct
people a day, and a use count; a refusal counts nothing and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.services.agreements import DraftCommand
from onceonly.services.queries import QueryCommand, QueryRefused


def principal(world, label):
    return next(a.principal for a in world.accounts if a.label == label)


def limited_agreement(exchange, world, **limits) -> int:
    """DWP's agreement with HMRC for the income band, approved, with the limits given."""
    officer, guardian = principal(world, "officer:GOV/DWP"), principal(world, "guardian:GOV/HMRC")
    now = exchange.clock.now()
    draft = exchange.agreements.draft(officer, DraftCommand(
        dataset_id="GOV/HMRC/income",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="benefit-entitlement", purpose_text="Limited test agreement",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30), max_queries_per_day=limits.pop("per_day", 1000),
        retention_days=30, **limits,
        assessment=PrivacyAssessment(Risk.LOW, "test", officer.name, now.date())))
    exchange.agreements.transition(officer, draft.id, "submit", "ready")
    exchange.agreements.transition(guardian, draft.id, "approve", "fine")
    return draft.id


def ninos(exchange, n: int) -> list[str]:
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.person_links.c.value).where(t.person_links.c.scheme == "nino")
                            .order_by(t.person_links.c.value).limit(n)).scalars().all()


def ask(exchange, world, agreement_id: int, nino: str):
    return exchange.queries.query(principal(world, "officer:GOV/DWP"), QueryCommand(
        agreement_id, "nino", nino, ("income_band",), "benefit-entitlement"))


def refused(action) -> QueryRefused:
    with pytest.raises(QueryRefused) as refusal:
        action()
    return refusal.value


def releases(exchange, agreement_id: int) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.agreement_id == agreement_id,
            t.audit_log.c.action == "query.release")).scalar_one()


def test_a_one_time_agreement_releases_once(exchange, world):
    agreement = limited_agreement(exchange, world, max_uses=1)
    nino = ninos(exchange, 1)[0]
    ask(exchange, world, agreement, nino)

    refusal = refused(lambda: ask(exchange, world, agreement, nino))

    assert (refusal.code, refusal.kind.value) == ("uses_exhausted", "limited")
    assert "1 uses in all" in refusal.detail
    assert releases(exchange, agreement) == 1
    exchange.clock.advance(timedelta(days=1))  # a use count does not renew with the day
    try:
        assert refused(lambda: ask(exchange, world, agreement, nino)).code == "uses_exhausted"
    finally:
        exchange.clock.advance(timedelta(days=-1))


def test_distinct_people_a_day_are_limited_but_the_same_person_again_is_not(exchange, world):
    agreement = limited_agreement(exchange, world, max_persons_per_day=2)
    first, second, third = ninos(exchange, 3)
    for nino in (first, second, first, second, first):
        ask(exchange, world, agreement, nino)

    refusal = refused(lambda: ask(exchange, world, agreement, third))

    assert refusal.code == "person_limit_reached"
    assert releases(exchange, agreement) == 5
    with exchange.engine.connect() as conn:
        noted = conn.execute(select(t.person_usage.c.person_key)
                             .where(t.person_usage.c.agreement_id == agreement)).scalars().all()
    assert len(noted) == 2  # the refused person was not noted
    exchange.clock.advance(timedelta(days=1))
    try:
        ask(exchange, world, agreement, third)  # a new day
    finally:
        exchange.clock.advance(timedelta(days=-1))


def test_a_refused_use_counts_nothing(exchange, world):
    agreement = limited_agreement(exchange, world, per_day=3, max_uses=2)
    nino = ninos(exchange, 1)[0]
    ask(exchange, world, agreement, nino)
    ask(exchange, world, agreement, nino)
    for _ in range(3):
        assert refused(lambda: ask(exchange, world, agreement, nino)).code == "uses_exhausted"

    with exchange.engine.connect() as conn:
        today = conn.execute(select(t.query_usage.c.count)
                             .where(t.query_usage.c.agreement_id == agreement)).scalar_one()
        uses = conn.execute(select(t.agreement_uses.c.uses)
                            .where(t.agreement_uses.c.agreement_id == agreement)).scalar_one()
        denials = conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.agreement_id == agreement,
            t.audit_log.c.reason == "uses_exhausted")).scalar_one()
    assert (today, uses, denials) == (2, 2, 3)


@pytest.mark.parametrize("limits", [{"max_uses": 0}, {"max_persons_per_day": 0},
                                    {"max_uses": -1}])
def test_a_limit_below_one_is_refused_at_drafting(exchange, world, limits):
    from onceonly.domain.errors import DomainError

    with pytest.raises(DomainError) as refusal:
        limited_agreement(exchange, world, **limits)
    assert refusal.value.code == "invalid_limit"
