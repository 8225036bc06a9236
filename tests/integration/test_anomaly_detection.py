"""Anomaly detection through the services, on SQLite and PostgreSQL: a harvesting pattern
suspends just the agreement it went through (or, when it is one officer's, just that
officer) and alerts the provider's guardian, who resumes or revokes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.domain.anomaly import WORKING_ZONE, Suspension
from onceonly.domain.errors import DomainError
from onceonly.services.queries import QueryCommand, QueryRefused
from tests.integration.test_use_limits import ninos, principal


def acme_asks(exchange, world, nino: str):
    return exchange.queries.query(principal(world, "officer:COM/ACME"), QueryCommand(
        3, "nino", nino, ("full_name",), "disability-assessment"))


def status(exchange, agreement_id: int) -> str:
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.agreements.c.status)
                            .where(t.agreements.c.id == agreement_id)).scalar_one()


def test_harvesting_suspends_only_that_agreement_and_alerts_the_provider(exchange, world):
    exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 5, 600)
    for nino in ninos(exchange, 5):
        acme_asks(exchange, world, nino)

    raised = exchange.anomaly.detect()

    assert len(raised) == 1
    assert status(exchange, 3) == "suspended"
    assert [status(exchange, a) for a in (1, 2, 4, 5, 6)] == ["approved"] * 5
    dwp_guardian = principal(world, "guardian:GOV/DWP")
    (alert,) = exchange.anomaly.alerts(dwp_guardian)
    assert (alert.agreement_id, alert.rule, alert.status) == (3, "many_persons", "open")
    assert alert.evidence["count"] == 5
    assert exchange.anomaly.alerts(principal(world, "guardian:GOV/HMRC")) == []
    with pytest.raises(QueryRefused) as refused:
        acme_asks(exchange, world, ninos(exchange, 1)[0])
    assert refused.value.code == "agreement_not_active"
    assert exchange.anomaly.detect() == []  # nothing new to raise

    resumed = exchange.anomaly.resolve(dwp_guardian, alert.id, "resume", "checked with ACME")

    assert (resumed.status, resumed.resolved_by) == ("resumed", dwp_guardian.id)
    assert status(exchange, 3) == "approved"
    with pytest.raises(DomainError) as again:
        exchange.anomaly.resolve(dwp_guardian, alert.id, "revoke", "changed my mind")
    assert again.value.code == "alert_resolved"
    with pytest.raises(DomainError) as stranger:
        exchange.anomaly.resolve(principal(world, "guardian:GOV/HMRC"), alert.id, "revoke",
                                   "not mine")
    assert stranger.value.code == "alert_unknown"


def test_an_officer_probing_sequential_identifiers_is_caught_though_refused(exchange, world):
    exchange.anomaly.set_rule("GOV/DWP", None, "sequential_ids", 6, 600)
    dwp = principal(world, "officer:GOV/DWP")
    for n in range(6):  # nobody holds these: each is refused, each is noted
        with pytest.raises(QueryRefused):
            exchange.queries.query(dwp, QueryCommand(1, "nino", f"ZZ{900100 + n}Z",
                                                     ("income_band",), "benefit-entitlement"))

    exchange.anomaly.detect()

    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/HMRC"))
    assert (alert.rule, alert.officer_id, alert.agreement_id) == ("sequential_ids", dwp.id, 1)
    assert alert.suspended is Suspension.OFFICER
    assert status(exchange, 1) == "approved"  # the officer is suspended, not the agreement
    revoked = exchange.anomaly.resolve(principal(world, "guardian:GOV/HMRC"), alert.id,
                                         "revoke", "deliberate probing")
    assert revoked.status == "revoked"
    assert status(exchange, 1) == "approved"
    with pytest.raises(QueryRefused) as kept_out:
        exchange.queries.query(dwp, QueryCommand(1, "nino", ninos(exchange, 1)[0],
                                                 ("income_band",), "benefit-entitlement"))
    assert kept_out.value.code == "officer_suspended"


def test_a_storm_of_refusals_suspends_the_officer(exchange, world):
    bank = principal(world, "officer:COM/NORTHBANK")
    nino = ninos(exchange, 1)[0]
    for _ in range(4):  # consent basis, nobody consented: refused every time
        with pytest.raises(QueryRefused):
            exchange.queries.query(bank, QueryCommand(4, "nino", nino, ("income_band",),
                                                      "mortgage-affordability"))
    exchange.anomaly.set_rule("COM/NORTHBANK", bank.id, "refusal_storm", 4, 300)

    exchange.anomaly.detect()

    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/HMRC"))
    assert (alert.rule, alert.officer_id, alert.suspended) \
        == ("refusal_storm", bank.id, Suspension.OFFICER)
    assert status(exchange, 4) == "approved"
    for _ in range(5):  # refused as suspended now: no further alert
        with pytest.raises(QueryRefused):
            exchange.queries.query(bank, QueryCommand(4, "nino", nino, ("income_band",),
                                                      "mortgage-affordability"))
    assert exchange.anomaly.detect() == []


def test_a_burst_at_night_is_caught_and_the_same_by_day_is_not(exchange, world):
    exchange.anomaly.set_rule("COM/ACME", None, "off_hours", 4, 3600)
    people = ninos(exchange, 8)
    day = _next_weekday_in_london(exchange.clock.now(), hour=12)
    moved = _move_clock(exchange, day)
    try:
        for nino in people[:4]:
            acme_asks(exchange, world, nino)
        exchange.anomaly.detect()
        assert status(exchange, 3) == "approved"
        night = _next_weekday_in_london(day, hour=3)
        moved += _move_clock(exchange, night)
        for nino in people[4:]:
            acme_asks(exchange, world, nino)
        exchange.anomaly.detect()
        (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/DWP"))
        assert (alert.rule, alert.suspended) == ("off_hours", Suspension.OFFICER)
        with pytest.raises(QueryRefused) as kept_out:
            acme_asks(exchange, world, people[0])
        assert kept_out.value.code == "officer_suspended"
    finally:
        exchange.clock.advance(-moved)


def _next_weekday_in_london(after: datetime, hour: int) -> datetime:
    """`hour` o'clock London time on the first Monday to Friday after `after`'s date."""
    day = after.astimezone(WORKING_ZONE).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=WORKING_ZONE).astimezone(UTC)


def _move_clock(exchange, to: datetime) -> timedelta:
    move = to - exchange.clock.now()
    exchange.clock.advance(move)
    return move


@pytest.mark.parametrize(("args", "code"), [
    (("COM/NOBODY", None, "many_persons", 5, 60), "organisation_unknown"),
    (("acme", None, "many_persons", 5, 60), "invalid_org_id"),
    (("COM/ACME", None, "everything", 5, 60), "unknown_rule"),
    (("COM/ACME", "nobody.at.all", "many_persons", 5, 60), "officer_unknown"),
])
def test_bad_rule_settings_are_refused(exchange, world, args, code):
    with pytest.raises(DomainError) as refused:
        exchange.anomaly.set_rule(*args)
    assert refused.value.code == code
