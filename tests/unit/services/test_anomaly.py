"""Anomaly detection on fakes: what a finding suspends (the officer, or the agreement),
its alert and audit entry, the detector's watermark, and guardians resolving alerts and
setting thresholds for their own organisation's agreements."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.anomaly import Activity, Rule, RuleKind
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.anomaly import AnomalyService
from tests.fakes.anomaly import FakeActivity
from tests.fakes.clock import FixedClock
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW, principal
from tests.unit.services.conftest import CONSUMER, PROVIDER

OFFICER = principal(CONSUMER, Role.OFFICER, "officer-1")
GUARDIAN = principal(PROVIDER, Role.GUARDIAN)


@pytest.fixture
def anomalies(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> AnomalyService:
    uows.data.principals[OFFICER.id] = OFFICER
    return AnomalyService(uows, clock)


def threshold(uows: FakeUnitOfWorkFactory, kind: RuleKind, count: int) -> None:
    uows.data.anomaly_rules[CONSUMER, None, None] = [Rule(kind, count, timedelta(minutes=5))]


def note(uows: FakeUnitOfWorkFactory, officer: str = OFFICER.id, person: str | None = "p1",
         refused: bool = False, agreement_id: int = 1) -> None:
    FakeActivity(uows.data).record(
        Activity(NOW - timedelta(seconds=1), officer, agreement_id, person, None, refused),
        CONSUMER)


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_nothing_new_raises_nothing(anomalies: AnomalyService,
                                    uows: FakeUnitOfWorkFactory) -> None:
    assert anomalies.detect() == []
    assert uows.data.audit == [] and uows.data.alerts == {}


def test_an_officers_refusal_storm_suspends_that_officer_from_the_provider(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.REFUSAL_STORM, 2)
    note(uows, refused=True)
    note(uows, refused=True)
    [alert_id] = anomalies.detect()
    alert = uows.data.alerts[alert_id]
    assert (alert.officer_id, alert.rule, alert.status) == (OFFICER.id, "refusal_storm", "open")
    assert uows.data.suspended == {(OFFICER.id, PROVIDER): alert_id}
    assert uows.data.agreements[1].status is AgreementStatus.APPROVED  # others carry on
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.reason, record.entry.detail["suspended"]) == (
        "anomaly.suspend", "refusal_storm", "officer")
    assert uows.data.watermark == 2
    assert anomalies.detect() == []  # read already: no second alert


def test_many_people_through_one_agreement_suspends_the_agreement(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.MANY_PERSONS, 3)
    for n, person in enumerate(("p1", "p2", "p3")):
        note(uows, officer=f"officer-{n}", person=person)
    [alert_id] = anomalies.detect()
    assert uows.data.alerts[alert_id].officer_id is None
    assert uows.data.suspended == {}
    suspended = uows.data.agreements[1]
    assert suspended.status is AgreementStatus.SUSPENDED
    assert suspended.history[-1].reason.startswith("anomaly detected: many_persons")


def test_the_activity_of_an_agreement_not_approved_raises_nothing(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.REFUSAL_STORM, 2)
    uows.data.agreements[1].status = AgreementStatus.REVOKED
    note(uows, refused=True)
    note(uows, refused=True)
    assert anomalies.detect() == []
    assert uows.data.watermark == 2


def test_a_guardian_resumes_a_suspended_officer(anomalies: AnomalyService,
                                                uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.REFUSAL_STORM, 2)
    note(uows, refused=True)
    note(uows, refused=True)
    [alert_id] = anomalies.detect()
    resolved = anomalies.resolve(GUARDIAN, alert_id, "resume", "a false alarm")
    assert resolved.status == "resumed" and uows.data.alerts[alert_id].status == "resumed"
    assert uows.data.suspended == {}
    assert uows.data.audit[-1].entry.action == "officer.reinstate"
    again = refusal(anomalies.resolve, GUARDIAN, alert_id, "revoke", "changed my mind")
    assert (again.kind, again.code) == (ErrorKind.CONFLICT, "alert_resolved")


def test_a_guardian_revokes_an_agreement_an_alert_suspended(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.MANY_PERSONS, 2)
    note(uows, person="p1")
    note(uows, person="p2")
    [alert_id] = anomalies.detect()
    anomalies.resolve(GUARDIAN, alert_id, "revoke", "harvesting")
    assert uows.data.agreements[1].status is AgreementStatus.REVOKED
    entry = uows.data.audit[-1].entry
    assert (entry.action, entry.detail["alert"], entry.detail["to"]) == (
        "agreement.revoke", alert_id, "revoked")


def test_only_the_providers_guardian_resolves_its_alerts(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.REFUSAL_STORM, 2)
    note(uows, refused=True)
    note(uows, refused=True)
    [alert_id] = anomalies.detect()
    other = refusal(anomalies.resolve, principal("GOV/DVLA", Role.GUARDIAN), alert_id,
                    "resume", "x")
    assert (other.kind, other.code) == (ErrorKind.NOT_FOUND, "alert_unknown")
    officer = refusal(anomalies.resolve, principal(PROVIDER, Role.OFFICER), alert_id,
                      "resume", "x")
    assert (officer.kind, officer.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    assert uows.data.suspended == {(OFFICER.id, PROVIDER): alert_id}
    assert [(r.entry.action, r.entry.outcome, r.entry.reason)
            for r in uows.data.audit[1:]] == [("alert.resume", "deny", "alert_unknown"),
                                              ("alert.resume", "deny", "role_not_allowed")]
    assert anomalies.alerts(GUARDIAN)[0].id == alert_id
    assert anomalies.alerts(principal("GOV/DVLA", Role.GUARDIAN)) == []


def test_a_guardians_threshold_is_for_its_own_agreements_and_wins_there(
        anomalies: AnomalyService, uows: FakeUnitOfWorkFactory) -> None:
    threshold(uows, RuleKind.REFUSAL_STORM, 10)
    anomalies.set_guardian_rule(GUARDIAN, CONSUMER, None, "refusal_storm", 3, 60)
    rules, _ = anomalies.guardian_rules(GUARDIAN, CONSUMER)
    assert rules[RuleKind.REFUSAL_STORM] == Rule(RuleKind.REFUSAL_STORM, 3,
                                                 timedelta(seconds=60))
    stranger = principal("GOV/DVLA", Role.GUARDIAN)
    error = refusal(anomalies.set_guardian_rule, stranger, CONSUMER, None, "refusal_storm",
                    3, 60)
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "consumer_unknown")
    theirs, _ = anomalies.guardian_rules(GUARDIAN, CONSUMER)
    assert theirs[RuleKind.REFUSAL_STORM].threshold == 3
    officer_rule = refusal(anomalies.set_guardian_rule, GUARDIAN, CONSUMER, "nobody",
                           "refusal_storm", 3, 60)
    assert officer_rule.code == "officer_unknown"
    anomalies.set_guardian_rule(GUARDIAN, CONSUMER, OFFICER.id, "refusal_storm", 5, 60)
    _, officers = anomalies.guardian_rules(GUARDIAN, CONSUMER)
    assert officers[OFFICER.id][RuleKind.REFUSAL_STORM].threshold == 5
    assert [(r.entry.action, r.entry.outcome) for r in uows.data.audit] == [
        ("anomaly.rule", "done"), ("anomaly.rule", "deny"), ("anomaly.rule", "deny"),
        ("anomaly.rule", "done")]
