"""The policy decision: deny by default, the first applicable reason, exact fields."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.domain.agreements import AgreementStatus, LegalBasis
from onceonly.domain.organisations import Role
from onceonly.domain.policy import Circumstances, Deny, Permit, QueryRequest, Reason, decide
from tests.unit.factories import NOW, agreement

REQUEST = QueryRequest("GOV/DWP", Role.OFFICER, "benefit-entitlement", ("income_band",))
FACTS = Circumstances(now=NOW, subject_known=True, consent_given=False, queries_today=0)


def test_permits_exactly_the_requested_grants():
    decision = decide(REQUEST, agreement(), FACTS)
    assert isinstance(decision, Permit)
    assert [g.name for g in decision.grants] == ["income_band"]
    assert decision.grants[0].transform == "income_band"


@pytest.mark.parametrize(
    ("request_changes", "agreement_changes", "fact_changes", "reason"),
    [
        ({"org_id": "COM/ACME"}, {}, {}, Reason.NOT_AGREEMENT_PARTY),
        ({"role": Role.GUARDIAN}, {}, {}, Reason.ROLE_NOT_ALLOWED),
        ({"role": Role.CITIZEN}, {}, {}, Reason.ROLE_NOT_ALLOWED),
        ({}, {"status": AgreementStatus.SUSPENDED}, {}, Reason.AGREEMENT_NOT_ACTIVE),
        ({}, {"status": AgreementStatus.REVOKED}, {}, Reason.AGREEMENT_NOT_ACTIVE),
        ({}, {"status": AgreementStatus.SUBMITTED}, {}, Reason.AGREEMENT_NOT_ACTIVE),
        ({}, {"status": AgreementStatus.DRAFT}, {}, Reason.AGREEMENT_NOT_ACTIVE),
        ({}, {"valid_until": NOW}, {}, Reason.OUTSIDE_VALIDITY),
        ({}, {"valid_from": NOW + timedelta(seconds=1)}, {}, Reason.OUTSIDE_VALIDITY),
        ({"purpose": "fraud"}, {}, {}, Reason.PURPOSE_MISMATCH),
        ({"fields": ("income_band", "annual_income")}, {}, {}, Reason.FIELD_NOT_IN_AGREEMENT),
        ({}, {}, {"subject_known": False}, Reason.SUBJECT_UNKNOWN),
        ({}, {"legal_basis": LegalBasis.CONSENT}, {}, Reason.CONSENT_MISSING),
        ({}, {}, {"queries_today": 10}, Reason.QUOTA_EXCEEDED),
    ],
)
def test_each_refusal_has_its_reason(request_changes, agreement_changes, fact_changes, reason):
    decision = decide(
        replace(REQUEST, **request_changes),
        agreement(**agreement_changes),
        replace(FACTS, **fact_changes),
    )
    assert isinstance(decision, Deny)
    assert decision.reason is reason
    assert decision.detail


def test_consent_given_permits_a_consent_agreement():
    decision = decide(REQUEST, agreement(legal_basis=LegalBasis.CONSENT),
                      replace(FACTS, consent_given=True))
    assert isinstance(decision, Permit)


def test_who_may_ask_is_decided_before_anything_about_the_person():
    # A stranger learns neither that the person is unknown nor that consent is missing.
    decision = decide(replace(REQUEST, org_id="COM/ACME"),
                      agreement(legal_basis=LegalBasis.CONSENT),
                      replace(FACTS, subject_known=False))
    assert decision.reason is Reason.NOT_AGREEMENT_PARTY


def test_the_last_query_of_the_day_is_allowed_and_the_next_is_not():
    assert decide(REQUEST, agreement(), replace(FACTS, queries_today=9)).permitted
    assert not decide(REQUEST, agreement(), replace(FACTS, queries_today=10)).permitted


@given(
    org=st.sampled_from(["GOV/DWP", "COM/ACME"]),
    role=st.sampled_from(list(Role)),
    status=st.sampled_from(list(AgreementStatus)),
    offset_days=st.integers(-60, 60),
    purpose=st.sampled_from(["benefit-entitlement", "other"]),
    fields=st.lists(st.sampled_from(["income_band", "full_name", "annual_income"]),
                    min_size=1, max_size=3, unique=True),
    known=st.booleans(),
    consent=st.booleans(),
    basis=st.sampled_from(list(LegalBasis)),
    used=st.integers(0, 12),
)
def test_permit_only_when_every_condition_holds(org, role, status, offset_days, purpose,
                                                fields, known, consent, basis, used):
    deal = agreement(status=status, legal_basis=basis)
    now = NOW + timedelta(days=offset_days)
    decision = decide(
        QueryRequest(org, role, purpose, tuple(fields)),
        deal,
        Circumstances(now=now, subject_known=known, consent_given=consent, queries_today=used),
    )
    everything_holds = (
        org == deal.consumer_id
        and role is Role.OFFICER
        and status is AgreementStatus.APPROVED
        and deal.valid_from <= now < deal.valid_until
        and purpose == deal.purpose_code
        and set(fields) <= {"income_band", "full_name"}
        and known
        and (basis is not LegalBasis.CONSENT or consent)
        and used < deal.max_queries_per_day
    )
    assert decision.permitted is everything_holds
    if decision.permitted:
        assert tuple(g.name for g in decision.grants) == tuple(fields)
