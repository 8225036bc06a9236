"""Life events, pure: intake checks, who may report, whom to tell, what each receiver gets,
and the retry schedule."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.domain.agreements import AgreementKind, FieldGrant, LegalBasis
from onceonly.domain.catalogue import FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import (
    EVENT_TYPES,
    EventType,
    Recipient,
    Report,
    Reporter,
    RetryPolicy,
    check_citizen_event,
    check_event,
    check_reporter,
    choose_recipients,
    correction_notice,
    iso,
    may_see_report,
    notification,
    same_event,
)
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.policy import Circumstances, QueryRequest, Reason, decide
from tests.unit.factories import agreement as make_agreement

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
DEATH = "gov.onceonly.death.registered"
REGISTRAR = Principal("gro.officer", "Registrar", "GOV/GRO", Role.OFFICER)


def event(**change) -> dict:
    return {"specversion": "1.0", "id": "e-1", "source": "GOV/GRO/deaths", "type": DEATH,
            "subject": "grn:RN1950000042",
            "data": {"full_name": "Ann Example", "date_of_death": "2026-11-20"}} | change


def code_of(action) -> str:
    with pytest.raises(DomainError) as refused:
        action()
    return refused.value.code


def test_every_event_type_has_a_schema_that_forbids_unknown_fields():
    for kind in EVENT_TYPES.values():
        schema = kind.schema()
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) <= set(schema["properties"])


@pytest.mark.parametrize(("change", "code"), [
    ({"specversion": "1.1"}, "specversion_unsupported"),
    ({"id": ""}, "event_invalid"),
    ({"type": "gov.onceonly.unknown"}, "event_type_unknown"),
    ({"datacontenttype": "text/plain"}, "event_invalid"),
    ({"data": {"full_name": "A"}}, "event_data_invalid"),
    ({"data": {"full_name": "A", "date_of_death": "yesterday"}}, "event_data_invalid"),
    ({"data": {"full_name": "A", "date_of_death": "2027-01-01"}}, "event_data_invalid"),
    ({"data": {"full_name": "", "date_of_death": "2026-01-01"}}, "event_data_invalid"),
    ({"data": ["not", "an", "object"]}, "event_data_invalid"),
    ({"time": "last tuesday"}, "event_invalid"),
    ({"time": "2026-11-20T10:00:00"}, "event_invalid"),
    ({"subject": "RN1950000042"}, "subject_invalid"),
    ({"informant": "someone"}, "informant_invalid"),
])
def test_a_malformed_event_is_refused_with_what_is_wrong(change, code):
    assert code_of(lambda: check_event(event(**change), NOW)) == code


def test_a_good_event_is_taken_with_its_subject_and_time():
    checked = check_event(event(time="2026-11-21T09:30:00Z", informant="grn:RN1980000001"),
                          NOW)
    assert (checked.scheme, checked.value) == ("grn", "RN1950000042")
    assert checked.time == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert checked.informant == ("grn", "RN1980000001")
    assert checked.cloudevent()["subject"] == "grn:RN1950000042"


@pytest.mark.parametrize(("who", "change", "code"), [
    (Principal("dwp.officer", "x", "GOV/DWP", Role.OFFICER), {}, "reporter_not_allowed"),
    (Principal("gro.guardian", "x", "GOV/GRO", Role.GUARDIAN), {}, "reporter_not_allowed"),
    (REGISTRAR, {"source": "GOV/GROUCHO/deaths"}, "source_not_yours"),
    (REGISTRAR, {"subject": "nino:QQ123456C"}, "scheme_not_yours"),
    (REGISTRAR, {"type": "gov.onceonly.name.changed",
                 "data": {"new_full_name": "B", "effective_date": "2026-01-01"}},
     "reporter_not_allowed"),
])
def test_only_the_registers_registrar_reports_by_its_own_identifier(who, change, code):
    checked = check_event(event(**change), NOW)
    assert code_of(lambda: check_reporter(who, checked, "GOV/GRO", ["grn"])) == code


def subscriber(consumer: str, basis: LegalBasis, *fields: str) -> Recipient:
    agreement = make_agreement(consumer_id=consumer, legal_basis=basis,
                               grants=tuple(FieldGrant(f, f) for f in fields),
                               kind=AgreementKind.NOTIFICATION)
    return Recipient(agreement, basis is LegalBasis.STATUTORY_DUTY)


def test_the_informant_may_leave_out_only_those_the_law_does_not_require():
    hmrc = subscriber("GOV/HMRC", LegalBasis.STATUTORY_DUTY, "date_of_death")
    council = subscriber("LA/NORTHSHIRE", LegalBasis.PUBLIC_TASK, "date_of_death")
    assert choose_recipients([hmrc, council], None) == [hmrc, council]
    assert choose_recipients([hmrc, council], ["GOV/HMRC"]) == [hmrc]
    assert code_of(lambda: choose_recipients([hmrc, council], ["LA/NORTHSHIRE"])) \
        == "recipient_required"
    assert code_of(lambda: choose_recipients([hmrc], ["GOV/HMRC", "COM/ACME"])) \
        == "recipient_not_subscribed"


def test_a_notification_carries_only_the_agreed_fields_under_the_receivers_identifier():
    dvla = subscriber("GOV/DVLA", LegalBasis.STATUTORY_DUTY, "date_of_death").agreement
    note = notification(check_event(event(), NOW), "r-1", "d-1", dvla, ("driver", "EXAMP123"))
    assert note["subject"] == "driver:EXAMP123" and note["id"] == "d-1"
    assert note["data"] == {"date_of_death": "2026-11-20"}
    assert note["specversion"] == "1.0" and note["type"] == DEATH


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_backoff_grows_within_its_cap_with_jitter(attempts, seed):
    policy = RetryPolicy(max_attempts=8, base_seconds=1.0, cap_seconds=300.0)
    delay = policy.delay(attempts, random.Random(seed))
    ceiling = min(300.0, 2.0 ** (attempts - 1))
    assert timedelta(seconds=ceiling / 2) <= delay <= timedelta(seconds=ceiling)
    assert policy.exhausted(attempts) == (attempts >= 8)


def test_a_notification_agreement_answers_no_queries():
    notifications = make_agreement(kind=AgreementKind.NOTIFICATION)
    decision = decide(QueryRequest("GOV/DWP", Role.OFFICER, "benefit-entitlement",
                                   ("full_name",)), notifications,
                      Circumstances(now=NOW, subject_known=True, consent_given=False,
                                    queries_today=0))
    assert not decision.permitted and decision.reason is Reason.NOT_A_QUERY_AGREEMENT


def test_a_checked_event_as_a_cloudevent_exactly():
    checked = check_event(event(time="2026-11-21T10:30:00+01:00", informant="grn:RN1"), NOW)
    assert checked.cloudevent() == {
        "specversion": "1.0", "id": "e-1", "source": "GOV/GRO/deaths", "type": DEATH,
        "subject": "grn:RN1950000042", "time": "2026-11-21T09:30:00Z",
        "datacontenttype": "application/json",
        "data": {"full_name": "Ann Example", "date_of_death": "2026-11-20"},
        "informant": "grn:RN1"}
    assert "informant" not in check_event(event(), NOW).cloudevent()
    assert check_event(event(), NOW).time == NOW  # no time: the time it was received
    assert check_event(event(datacontenttype="application/json"), NOW).type == DEATH


def test_a_date_today_is_not_in_the_future():
    today = {"full_name": "A", "date_of_death": "2026-11-25", "date_of_birth": "2026-11-25"}
    assert check_event(event(data=today), NOW).data == today
    with pytest.raises(DomainError) as refused:
        check_event(event(data={**today, "date_of_birth": "2026-11-26"}), NOW)
    assert refused.value.detail == f"{DEATH}: date_of_birth is in the future"


@pytest.mark.parametrize(("change", "detail"), [
    ({"source": 7}, "the CloudEvent attribute 'source' is required"),
    ({"subject": ""}, "the CloudEvent attribute 'subject' is required"),
    ({"data": {"full_name": "A", "date_of_death": "2026-01-01", "x": 1}},
     f"{DEATH}: data: Additional properties are not allowed ('x' was unexpected)"),
    ({"data": {"full_name": 3, "date_of_death": 4}}, f"{DEATH}: date_of_death: 4 is not of "
                                                     "type 'string'"),
])
def test_what_is_wrong_is_named(change, detail):
    with pytest.raises(DomainError) as refused:
        check_event(event(**change), NOW)
    assert refused.value.detail == detail


def test_the_schema_of_a_type_exactly():
    assert EVENT_TYPES["gov.onceonly.address.changed"].schema() == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Change of address",
        "type": "object",
        "properties": {
            "new_address": {"type": "string", "minLength": 1, "maxLength": 200,
                            "description": "the new address"},
            "effective_date": {"type": "string", "format": "date",
                               "description": "moving date"}},
        "required": ["new_address", "effective_date"],
        "additionalProperties": False,
    }
    assert set(EVENT_TYPES) == {f"gov.onceonly.{name}" for name in (
        "death.registered", "birth.registered", "marriage.registered", "name.changed",
        "address.changed")}


def test_a_citizen_reports_only_a_citizens_event():
    citizen = Principal("c", "x", "CITIZENS", Role.CITIZEN, person_key="p-1")
    check_citizen_event(citizen, EVENT_TYPES["gov.onceonly.name.changed"])
    for who, kind, code in [
        (Principal("c", "x", "CITIZENS", Role.CITIZEN), "gov.onceonly.name.changed",
         "role_not_allowed"),
        (Principal("o", "x", "GOV/GRO", Role.OFFICER, person_key="p-1"),
         "gov.onceonly.name.changed", "role_not_allowed"),
        (citizen, DEATH, "reporter_not_allowed"),
    ]:
        with pytest.raises(DomainError) as refused:
            check_citizen_event(who, EVENT_TYPES[kind])
        assert (refused.value.kind, refused.value.code) == ("forbidden", code)


def test_a_registrar_reports_from_its_own_organisation_or_one_of_its_systems():
    checked = check_event(event(source="GOV/GRO"), NOW)
    check_reporter(REGISTRAR, checked, "GOV/GRO", ["grn"])
    check_reporter(REGISTRAR, check_event(event(), NOW), "GOV/GRO", ["nino", "grn"])
    with pytest.raises(DomainError) as refused:
        check_reporter(REGISTRAR, check_event(event(source="GOV/GROX"), NOW), "GOV/GRO",
                       ["grn"])
    assert refused.value.code == "source_not_yours"


def test_whom_to_tell_refusals_name_the_organisations():
    hmrc = subscriber("GOV/HMRC", LegalBasis.STATUTORY_DUTY, "date_of_death")
    dwp = subscriber("GOV/DWP", LegalBasis.STATUTORY_DUTY, "date_of_death")
    council = subscriber("LA/NORTHSHIRE", LegalBasis.PUBLIC_TASK, "date_of_death")
    assert choose_recipients([council, hmrc], ["GOV/HMRC", "LA/NORTHSHIRE", "GOV/HMRC"]) == \
        [hmrc, council]
    with pytest.raises(DomainError) as refused:
        choose_recipients([hmrc, council], ["COM/B", "COM/A"])
    assert refused.value.detail == ("COM/A, COM/B cannot be told of this event: no "
                                    "notification agreement; those that can: GOV/HMRC, "
                                    "LA/NORTHSHIRE")
    with pytest.raises(DomainError) as refused:
        choose_recipients([], ["COM/A"])
    assert refused.value.detail.endswith("those that can: none")
    with pytest.raises(DomainError) as refused:
        choose_recipients([hmrc, dwp, council], ["LA/NORTHSHIRE"])
    assert refused.value.detail == ("the law requires GOV/DWP, GOV/HMRC to be told; they "
                                    "cannot be left out")
    assert choose_recipients([council], []) == []


def test_a_notification_exactly():
    grants = (FieldGrant("died_on", "date_of_death"), FieldGrant("born", "date_of_birth",
                                                                 "year_only"),
              FieldGrant("place", "place_of_death"))
    dvla = make_agreement(id=8, consumer_id="GOV/DVLA", grants=grants,
                          kind=AgreementKind.NOTIFICATION)
    checked = check_event(event(data={"full_name": "Ann Example", "date_of_death": "2026-11-20",
                                      "date_of_birth": "1950-03-04"},
                                time="2026-11-21T09:30:00Z"), NOW)
    assert notification(checked, "r-1", "d-1", dvla, ("driver", "EXAMP123")) == {
        "specversion": "1.0", "id": "d-1", "source": "GOV/GRO/deaths", "type": DEATH,
        "subject": "driver:EXAMP123", "time": "2026-11-21T09:30:00Z",
        "datacontenttype": "application/json",
        "data": {"died_on": "2026-11-20", "born": 1950},  # no place was given: left out
        "reportid": "r-1", "agreementid": 8}


def test_a_notification_a_citizen_caused_says_the_language_to_answer_them_in():
    dvla = make_agreement(id=8, consumer_id="GOV/DVLA", kind=AgreementKind.NOTIFICATION,
                          grants=(FieldGrant("died_on", "date_of_death"),))
    checked = check_event(event(), NOW)
    welsh = notification(checked, "r-1", "d-1", dvla, ("driver", "EXAMP123"), "cy")
    assert welsh["language"] == "cy"
    assert "language" not in notification(checked, "r-1", "d-1", dvla, ("driver", "E"))
    assert correction_notice("GOV/EXCHANGE/corrections", "r", "d", ("driver", "E"), NOW,
                             {"field": "x"}, "cy")["language"] == "cy"


def test_a_notification_is_computed_on_the_day_of_the_event():
    adult = make_agreement(grants=(FieldGrant("adult", "date_of_birth", "age_over_18"),),
                           kind=AgreementKind.NOTIFICATION)
    born = {"full_name": "A", "date_of_death": "2026-11-20", "date_of_birth": "2008-11-21"}
    on_the_eve = check_event(event(data=born, time="2026-11-20T12:00:00Z"), NOW)
    on_the_day = check_event(event(data=born, time="2026-11-21T12:00:00Z"), NOW)
    assert notification(on_the_eve, "r", "d", adult, ("grn", "1"))["data"] == {"adult": False}
    assert notification(on_the_day, "r", "d", adult, ("grn", "1"))["data"] == {"adult": True}


def test_a_correction_notice_exactly():
    at = datetime(2026, 11, 26, 8, tzinfo=UTC)
    assert correction_notice("GOV/DWP", "r-2", "d-2", ("nino", "QQ123456C"), at,
                             {"address": "1 New Street"}) == {
        "specversion": "1.0", "id": "d-2", "source": "GOV/DWP",
        "type": "gov.onceonly.record.corrected", "subject": "nino:QQ123456C",
        "time": "2026-11-26T08:00:00Z", "datacontenttype": "application/json",
        "data": {"address": "1 New Street"}, "reportid": "r-2"}


def test_an_event_id_is_reused_only_for_the_same_event():
    same_event("abc", "abc")
    with pytest.raises(DomainError) as refused:
        same_event("abc", "abd")
    assert (refused.value.kind, refused.value.code) == ("conflict", "event_id_reused")


def test_the_default_retry_policy():
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_seconds, policy.cap_seconds) == (8, 1.0, 300.0)
    assert not policy.exhausted(7) and policy.exhausted(8)
    rng = random.Random(1)
    assert timedelta(seconds=0.5) <= policy.delay(0, rng) <= timedelta(seconds=1)
    assert timedelta(seconds=2) <= RetryPolicy(base_seconds=4).delay(1, rng) <= \
        timedelta(seconds=4)


REPORT = Report("r-1", "GOV/GRO/deaths", "e-1", DEATH, "p-dead", "p-child", "gro.officer",
                "GOV/GRO", NOW, "digest", ())


@pytest.mark.parametrize(("who", "sees"), [
    (Principal("c", "x", "CITIZENS", Role.CITIZEN, person_key="p-dead"), True),
    (Principal("c", "x", "CITIZENS", Role.CITIZEN, person_key="p-child"), True),
    (Principal("c", "x", "CITIZENS", Role.CITIZEN, person_key="p-other"), False),
    (Principal("c", "x", "CITIZENS", Role.CITIZEN), False),
    (Principal("o", "x", "GOV/GRO", Role.OFFICER), True),
    (Principal("g", "x", "GOV/GRO", Role.GUARDIAN), True),
    (Principal("m", "x", "GOV/GRO", Role.MANAGER), False),
    (Principal("o", "x", "GOV/DWP", Role.OFFICER), False),
    (Principal("o", "x", "GOV/GRO", Role.OFFICER, person_key="p-x"), True),
])
def test_who_may_see_a_report(who, sees):
    assert may_see_report(who, REPORT) is sees


def test_a_report_with_no_informant_is_seen_by_its_person_only():
    alone = replace(REPORT, informant_key=None)
    assert not may_see_report(Principal("c", "x", "CITIZENS", Role.CITIZEN), alone)
    assert may_see_report(Principal("c", "x", "CITIZENS", Role.CITIZEN, person_key="p-dead"),
                          alone)


def test_each_field_type_has_its_json_schema_type():
    def spec(name: str, kind: FieldType) -> FieldSpec:
        return FieldSpec(name, kind, Sensitivity.PERSONAL, SourceLabel.VERIFIED, name + "!")

    kind = EventType("t", "T", Reporter.CITIZEN, tuple(spec(t.value, t) for t in FieldType),
                     ("date",))
    assert kind.schema()["properties"] == {
        "string": {"type": "string", "minLength": 1, "maxLength": 200,
                   "description": "string!"},
        "date": {"type": "string", "format": "date", "description": "date!"},
        "integer": {"type": "integer", "description": "integer!"},
        "boolean": {"type": "boolean", "description": "boolean!"},
        "list": {"type": "string", "minLength": 1, "maxLength": 200, "description": "list!"},
    }
    assert kind.schema()["required"] == ["date"]


def test_times_are_written_in_utc_whatever_the_machines_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert iso(datetime(2026, 11, 21, 10, 30, tzinfo=UTC)) == "2026-11-21T10:30:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()
