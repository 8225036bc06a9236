"""Life events, pure: intake checks, who may report, whom to tell, what each receiver gets,
and the retry schedule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.domain.agreements import AgreementKind, FieldGrant, LegalBasis
from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import (
    EVENT_TYPES,
    Recipient,
    RetryPolicy,
    check_event,
    check_reporter,
    choose_recipients,
    notification,
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
