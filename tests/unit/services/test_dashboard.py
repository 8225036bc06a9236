"""The managers' dashboard on fakes: decisions by hour, by reason and by agreement, for
managers and administrators only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.dashboard import DashboardService
from onceonly.services.ports.dashboard import DecisionRecord, DeliveryTimes
from tests.fakes.clock import FixedClock
from tests.fakes.dashboard import FakeDecisionLog
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW, principal

MANAGER = principal("GOV/EXCHANGE", Role.MANAGER)


def test_decisions_are_counted_by_hour_reason_and_agreement(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    log = FakeDecisionLog([
        DecisionRecord(NOW - timedelta(hours=30), 1, "permit", None),  # before the window
        DecisionRecord(NOW - timedelta(hours=2), 1, "permit", None),
        DecisionRecord(NOW - timedelta(minutes=5), 1, "deny", "quota_exceeded"),
        DecisionRecord(NOW, None, "deny", "agreement_unknown"),
    ])
    figures = DashboardService(log, uows, clock).decision_figures(MANAGER, hours=24)
    assert len(figures.buckets) == 24 and figures.buckets[-1] == NOW
    assert sum(figures.permits) == 1 and figures.permits[-3] == 1
    assert figures.refusals[-2:] == [1, 1]
    assert dict(figures.by_reason) == {"quota_exceeded": 1, "agreement_unknown": 1}
    assert {k: dict(v) for k, v in figures.by_agreement.items()} == {
        1: {"permit": 1, "deny": 1}}
    assert not figures.truncated


def test_delivery_figures_give_each_receivers_counts_and_times(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    times = DeliveryTimes({("GOV/DWP", "delivered"): 3, ("GOV/DWP", "failed"): 1},
                          {"GOV/DWP": [1.0, 2.0, 9.0]})
    figures = DashboardService(FakeDecisionLog(times=times), uows, clock).delivery_figures(
        MANAGER)
    [dwp] = figures.receivers
    assert dwp.counts == {"pending": 0, "delivered": 3, "failed": 1}
    assert (dwp.p50_seconds, dwp.p99_seconds) == (2.0, 9.0)


def test_the_dashboard_is_for_managers_and_administrators(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    service = DashboardService(FakeDecisionLog(), uows, clock)
    service.decision_figures(principal("GOV/EXCHANGE", Role.ADMIN))
    with pytest.raises(DomainError) as caught:
        service.decision_figures(principal("GOV/DWP", Role.GUARDIAN))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome) == ("dashboard.read", "deny")
