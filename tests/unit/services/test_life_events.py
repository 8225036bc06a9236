"""Tell us once on fakes: a registrar's report fans out to every organisation with an
active notification agreement on the register, each named by its own identifier and
given only its agreed fields, sealed; inboxes, acknowledgements, endpoints and
redelivery; each refusal with its code and audit entry."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from onceonly.domain.agreements import AgreementKind, AgreementStatus, FieldGrant
from onceonly.domain.catalogue import Dataset, FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.life_events import DeliveryStatus
from onceonly.domain.organisations import Organisation, Principal, Role
from onceonly.services.envelopes import Envelopes
from onceonly.services.life_events import LifeEventService
from tests.fakes.clock import FixedClock
from tests.fakes.keys import FakeMasterKeys
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import agreement, principal
from tests.unit.services.conftest import CONSUMER, NINO, PERSON

GRO, DEATH, GRN = "GOV/GRO", "gov.onceonly.death.registered", "RN1950000042"
REGISTRAR = principal(GRO, Role.OFFICER)
OFFICER = principal(CONSUMER, Role.OFFICER)
GUARDIAN = principal(CONSUMER, Role.GUARDIAN)
DEATHS = Dataset("GOV/GRO/deaths", GRO, "Deaths", "grn", (
    FieldSpec("full_name", FieldType.STRING, Sensitivity.PERSONAL, SourceLabel.VERIFIED),
    FieldSpec("date_of_death", FieldType.DATE, Sensitivity.PERSONAL, SourceLabel.VERIFIED),
), event_type=DEATH)


def event(**change: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "e-1", "source": GRO, "type": DEATH,
            "subject": f"grn:{GRN}",
            "data": {"full_name": "Ann Example", "date_of_death": "2026-11-20"}} | change


@pytest.fixture
def events(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> LifeEventService:
    data = uows.data
    data.organisations[GRO] = Organisation(GRO, "Registrar General")
    data.datasets[DEATHS.id] = DEATHS
    data.schemes.add("grn")
    data.org_schemes.add((GRO, "grn"))
    data.links["grn", GRN] = PERSON
    # The benefits office is told, by its own identifier, the date only; the DVLA holds
    # no identifier of the person, and is not told.
    for agreement_id, consumer, grants in (
            (2, CONSUMER, (FieldGrant("date_of_death", "date_of_death"),)),
            (3, "GOV/DVLA", (FieldGrant("full_name", "full_name"),))):
        data.agreements[agreement_id] = agreement(
            id=agreement_id, version=1, provider_id=GRO, consumer_id=consumer,
            dataset_id=DEATHS.id, grants=grants, kind=AgreementKind.NOTIFICATION)
    return LifeEventService(uows, clock, Envelopes(FakeMasterKeys(), uows.keys, clock),
                            "GOV/EXCHANGE")


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_a_report_tells_each_subscriber_by_its_own_identifier_its_agreed_fields(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    status = events.report(REGISTRAR, event())
    assert status.report.person_key == PERSON
    assert status.report.not_told == (("GOV/DVLA", "no_record"),)
    [delivery] = status.deliveries
    assert (delivery.receiver_id, delivery.agreement_id, delivery.mode) == (CONSUMER, 2,
                                                                           "inbox")
    [(waiting, body)] = events.inbox(OFFICER)
    note = json.loads(body)
    assert waiting.id == delivery.id
    assert note["subject"] == f"nino:{NINO}" and note["data"] == {"date_of_death": "2026-11-20"}
    assert "Ann" not in str(uows.data.reports) + str(uows.data.sealed)  # kept sealed only
    actions = [(r.entry.action, r.entry.outcome) for r in uows.data.audit]
    assert actions == [("event.report", "done"), ("notification.read", "done")]
    assert uows.data.audit[0].entry.detail["told"] == [CONSUMER]


def test_the_same_event_again_is_already_received_and_a_changed_one_refused(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    first = events.report(REGISTRAR, event())
    again = events.report(REGISTRAR, event())
    assert again.already_received and again.report.id == first.report.id
    assert len(uows.data.reports) == 1 and len(uows.data.deliveries) == 1
    changed = refusal(events.report, REGISTRAR, event(data={
        "full_name": "Ann Example", "date_of_death": "2026-11-21"}))
    assert (changed.kind, changed.code) == (ErrorKind.CONFLICT, "event_id_reused")


@pytest.mark.parametrize(("who", "change", "kind", "code"), [
    (principal(CONSUMER, Role.OFFICER), {}, ErrorKind.FORBIDDEN, "reporter_not_allowed"),
    (REGISTRAR, {"source": "GOV/DWP"}, ErrorKind.FORBIDDEN, "source_not_yours"),
    (REGISTRAR, {"subject": f"nino:{NINO}"}, ErrorKind.FORBIDDEN, "scheme_not_yours"),
    (REGISTRAR, {"subject": "grn:RN0"}, ErrorKind.NOT_FOUND, "subject_unknown"),
    (REGISTRAR, {"type": "gov.onceonly.unknown"}, ErrorKind.INVALID, "event_type_unknown"),
])
def test_a_refused_report_tells_nobody_and_is_audited(
        events: LifeEventService, uows: FakeUnitOfWorkFactory, who: Principal,
        change: dict[str, Any], kind: ErrorKind, code: str) -> None:
    error = refusal(events.report, who, event(**change))
    assert (error.kind, error.code) == (kind, code)
    assert uows.data.reports == {} and uows.data.deliveries == {}
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "event.report", "deny", code)


def test_an_agreement_not_active_is_not_told(events: LifeEventService,
                                             uows: FakeUnitOfWorkFactory) -> None:
    uows.data.agreements[2].status = AgreementStatus.SUSPENDED
    status = events.report(REGISTRAR, event())
    assert status.deliveries == ()


def test_a_receivers_webhook_takes_its_deliveries(events: LifeEventService,
                                                  uows: FakeUnitOfWorkFactory) -> None:
    events.set_endpoint(GUARDIAN, "https://dwp.example/hooks")
    [delivery] = events.report(REGISTRAR, event()).deliveries
    assert delivery.mode == "webhook"
    assert events.inbox(OFFICER) == []
    events.set_endpoint(GUARDIAN, None)
    assert uows.data.endpoints == {}


@pytest.mark.parametrize(("url", "code"), [
    ("http://dwp.example/hooks", "endpoint_insecure"),
    ("ftp://dwp.example", "endpoint_invalid"),
    ("https://user:pw@dwp.example/", "endpoint_invalid"),
])
def test_an_endpoint_is_https_without_credentials(events: LifeEventService,
                                                  uows: FakeUnitOfWorkFactory, url: str,
                                                  code: str) -> None:
    assert refusal(events.set_endpoint, GUARDIAN, url).code == code
    assert uows.data.endpoints == {}
    assert uows.data.audit[-1].entry.reason == code
    assert refusal(events.set_endpoint, OFFICER, "https://x.example").code == "role_not_allowed"


def test_an_inbox_delivery_is_acknowledged_once_and_then_answered_as_it_stands(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    [delivery] = events.report(REGISTRAR, event()).deliveries
    done = events.acknowledge(OFFICER, delivery.id)
    assert done.status is DeliveryStatus.DELIVERED
    assert uows.data.sealed[delivery.id] is None
    assert events.acknowledge(OFFICER, delivery.id) == done
    assert events.inbox(OFFICER) == []
    other = refusal(events.acknowledge, principal("GOV/DVLA", Role.OFFICER), delivery.id)
    assert (other.kind, other.code) == (ErrorKind.NOT_FOUND, "delivery_unknown")


def test_a_dead_lettered_delivery_is_redelivered_by_its_receivers_guardian(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    [delivery] = events.report(REGISTRAR, event()).deliveries
    uows.data.deliveries[delivery.id] = replace(
        delivery, mode="webhook", status=DeliveryStatus.FAILED, attempts=8, last_error="503")
    assert [d.id for d in events.dead_letters(GUARDIAN)] == [delivery.id]
    other = refusal(events.redeliver, principal("GOV/DVLA", Role.GUARDIAN), delivery.id)
    assert other.code == "delivery_unknown"
    again = events.redeliver(GUARDIAN, delivery.id)
    assert (again.status, again.attempts, again.last_error) == (DeliveryStatus.PENDING, 0,
                                                                None)
    assert refusal(events.redeliver, GUARDIAN, delivery.id).code == "delivery_unknown"
    assert events.dead_letters(GUARDIAN) == []


def test_a_report_is_seen_by_its_reporter_and_the_person_only(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    report = events.report(REGISTRAR, event()).report
    assert events.status(REGISTRAR, report.id).report == report
    citizen = Principal("citizen-1", "Ann", "CITIZENS", Role.CITIZEN, PERSON)
    assert [s.report.id for s in events.my_reports(citizen)] == [report.id]
    hidden = refusal(events.status, OFFICER, report.id)
    assert (hidden.kind, hidden.code) == (ErrorKind.NOT_FOUND, "report_unknown")
    assert uows.data.audit[-1].entry.action == "event.status"


def test_a_death_an_informant_reported_asks_for_answers_in_the_informants_language(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.links["grn", "RN1980000123"] = "person-informant"
    uows.data.languages["person-informant"] = "cy"
    events.report(REGISTRAR, event(informant="grn:RN1980000123"))
    [(_, body)] = events.inbox(OFFICER)
    assert json.loads(body)["language"] == "cy"


def test_a_registrars_own_report_carries_no_language(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.languages[PERSON] = "cy"  # the person died: no citizen asked to be answered
    events.report(REGISTRAR, event())
    [(_, body)] = events.inbox(OFFICER)
    assert "language" not in json.loads(body)


def test_an_informant_who_chose_no_language_is_answered_in_english(
        events: LifeEventService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.links["grn", "RN1980000123"] = "person-informant"
    events.report(REGISTRAR, event(informant="grn:RN1980000123"))
    [(_, body)] = events.inbox(OFFICER)
    assert json.loads(body)["language"] == "en"
