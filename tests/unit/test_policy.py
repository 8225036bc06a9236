"""The policy decision: deny by default, the first applicable reason, exact fields."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onceonly.domain.agreements import AgreementKind, AgreementStatus, LegalBasis
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.domain.policy import (
    Circumstances,
    Deny,
    Permit,
    QueryRequest,
    Reason,
    check_fields,
    decide,
)
from tests.unit.factories import NOW, agreement

REQUEST = QueryRequest("GOV/DWP", Role.OFFICER, "benefit-entitlement", ("income_band",))
FACTS = Circumstances(now=NOW, subject_known=True, consent_given=False, queries_today=0)


def test_permits_exactly_the_requested_grants():
    decision = decide(REQUEST, agreement(), FACTS)
    assert isinstance(decision, Permit)
    assert [g.name for g in decision.grants] == ["income_band"]
    assert decision.grants[0].transform == "income_band"


@pytest.mark.parametrize(
    ("request_changes", "agreement_changes", "fact_changes", "reason", "detail"),
    [
        ({"org_id": "COM/ACME"}, {}, {}, Reason.NOT_AGREEMENT_PARTY,
         "the agreement is not with your organisation"),
        ({"role": Role.GUARDIAN}, {}, {}, Reason.ROLE_NOT_ALLOWED,
         "only an officer of the consumer may make queries"),
        ({"role": Role.CITIZEN}, {}, {}, Reason.ROLE_NOT_ALLOWED,
         "only an officer of the consumer may make queries"),
        ({}, {"kind": AgreementKind.NOTIFICATION}, {}, Reason.NOT_A_QUERY_AGREEMENT,
         "a notification agreement delivers life events; it answers no queries"),
        ({}, {"status": AgreementStatus.SUSPENDED}, {}, Reason.AGREEMENT_NOT_ACTIVE,
         "the agreement is suspended"),
        ({}, {"status": AgreementStatus.REVOKED}, {}, Reason.AGREEMENT_NOT_ACTIVE,
         "the agreement is revoked"),
        ({}, {"status": AgreementStatus.SUBMITTED}, {}, Reason.AGREEMENT_NOT_ACTIVE,
         "the agreement is submitted"),
        ({}, {"status": AgreementStatus.DRAFT}, {}, Reason.AGREEMENT_NOT_ACTIVE,
         "the agreement is draft"),
        ({}, {"valid_until": NOW}, {}, Reason.OUTSIDE_VALIDITY,
         "the agreement is valid from 2026-11-23T12:00:00+00:00 until "
         "2026-11-24T12:00:00+00:00"),
        ({}, {"valid_from": NOW + timedelta(seconds=1)}, {}, Reason.OUTSIDE_VALIDITY,
         "the agreement is valid from 2026-11-24T12:00:01+00:00 until "
         "2026-12-24T12:00:00+00:00"),
        ({"purpose": "fraud"}, {}, {}, Reason.PURPOSE_MISMATCH,
         "the agreement covers purpose 'benefit-entitlement' only"),
        ({"fields": ("income_band", "annual_income", "nino")}, {}, {},
         Reason.FIELD_NOT_IN_AGREEMENT, "not in the agreement: annual_income, nino"),
        ({}, {}, {"subject_known": False}, Reason.SUBJECT_UNKNOWN,
         "no such person is known to the provider"),
        ({}, {"legal_basis": LegalBasis.CONSENT}, {}, Reason.CONSENT_MISSING,
         "the legal basis is consent and this person has not consented to this purpose"),
        ({}, {}, {"queries_today": 10}, Reason.QUOTA_EXCEEDED,
         "the agreement allows 10 queries a day"),
    ],
)
def test_each_refusal_has_its_reason(request_changes, agreement_changes, fact_changes, reason,
                                     detail):
    decision = decide(
        replace(REQUEST, **request_changes),
        agreement(**agreement_changes),
        replace(FACTS, **fact_changes),
    )
    assert isinstance(decision, Deny)
    assert (decision.reason, decision.detail) == (reason, detail)


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


@pytest.mark.parametrize(("fields", "code", "detail"), [
    ((), "no_fields", "name at least one field to receive"),
    (("a", "b", "a"), "duplicate_field", "a field is named twice"),
])
def test_a_query_naming_no_field_or_one_twice_is_refused_with_its_detail(fields, code, detail):
    with pytest.raises(DomainError) as refusal:
        check_fields(fields)
    assert (refusal.value.code, refusal.value.detail) == (code, detail)


def test_the_last_query_of_the_day_is_allowed_and_the_next_is_not():
    assert decide(REQUEST, agreement(), replace(FACTS, queries_today=9)).permitted
    assert not decide(REQUEST, agreement(), replace(FACTS, queries_today=10)).permitted



# -- one condition broken at its boundary ------------------------------------------------------
# Each condition of the decision, in the order decide() checks them, with the reason its
# breach must give. Unbroken, every condition sits exactly on its edge (valid_from == now,
# valid_until one microsecond after now, the last query of the day), so a permit is the
# narrowest one the rule allows; broken, it is one step past that edge.
CONDITIONS = {
    "party": Reason.NOT_AGREEMENT_PARTY,
    "role": Reason.ROLE_NOT_ALLOWED,
    "kind": Reason.NOT_A_QUERY_AGREEMENT,
    "status": Reason.AGREEMENT_NOT_ACTIVE,
    "valid_from": Reason.OUTSIDE_VALIDITY,
    "valid_until": Reason.OUTSIDE_VALIDITY,
    "purpose": Reason.PURPOSE_MISMATCH,
    "field": Reason.FIELD_NOT_IN_AGREEMENT,
    "subject": Reason.SUBJECT_UNKNOWN,
    "consent": Reason.CONSENT_MISSING,
    "quota": Reason.QUOTA_EXCEEDED,
}
TICK = timedelta(microseconds=1)


@st.composite
def cases(draw, broken_strategy):
    """(what is broken, request, agreement, facts), every other condition on its edge."""
    broken = draw(broken_strategy)
    now = NOW + timedelta(seconds=draw(st.integers(-10**6, 10**6)))
    limit = draw(st.integers(1, 50))
    basis = draw(st.sampled_from(list(LegalBasis)))
    if "consent" in broken:
        basis = LegalBasis.CONSENT
    consent_given = "consent" not in broken and (basis is LegalBasis.CONSENT
                                                 or draw(st.booleans()))
    fields = draw(st.lists(st.sampled_from(["income_band", "full_name"]),
                           min_size=1, max_size=2, unique=True))
    if "field" in broken:  # the stored field's own name is not a grant's name
        fields.insert(draw(st.integers(0, len(fields))), "annual_income")
    deal = agreement(
        valid_from=now + TICK if "valid_from" in broken else now,
        valid_until=now if "valid_until" in broken else now + TICK,
        legal_basis=basis,
        max_queries_per_day=limit,
        kind=AgreementKind.NOTIFICATION if "kind" in broken else AgreementKind.QUERY,
        status=(draw(st.sampled_from([s for s in AgreementStatus
                                      if s is not AgreementStatus.APPROVED]))
                if "status" in broken else AgreementStatus.APPROVED),
    )
    request = QueryRequest(
        org_id="GOV/DWPX" if "party" in broken else "GOV/DWP",
        role=(draw(st.sampled_from([r for r in Role if r is not Role.OFFICER]))
              if "role" in broken else Role.OFFICER),
        purpose="benefit-entitlements" if "purpose" in broken else "benefit-entitlement",
        fields=tuple(fields),
    )
    facts = Circumstances(now=now, subject_known="subject" not in broken,
                          consent_given=consent_given,
                          queries_today=limit if "quota" in broken else limit - 1)
    return broken, request, deal, facts


def test_a_permit_when_no_condition_is_broken_and_its_reason_when_one_is():
    seen: Counter[str] = Counter()

    @settings(max_examples=400, deadline=None, database=None)
    @given(cases(st.sampled_from([(), *((name,) for name in CONDITIONS)])))
    def one_broken(case):
        broken, request, deal, facts = case
        decision = decide(request, deal, facts)
        if not broken:
            assert isinstance(decision, Permit)
            assert decision.grants == tuple(deal.grant_by_name[f] for f in request.fields)
            seen["permit"] += 1
        else:
            assert isinstance(decision, Deny)
            assert decision.reason is CONDITIONS[broken[0]]
            assert decision.detail
            seen[broken[0]] += 1

    one_broken()
    # Every run must exercise both sides of every edge, or it proves nothing.
    assert set(seen) == {"permit", *CONDITIONS}, seen


@settings(max_examples=300, deadline=None)
@given(cases(st.sets(st.sampled_from(list(CONDITIONS)), min_size=2)))
def test_with_several_broken_the_first_in_order_is_the_reason(case):
    broken, request, deal, facts = case
    first = next(name for name in CONDITIONS if name in broken)
    decision = decide(request, deal, facts)
    assert isinstance(decision, Deny)
    assert decision.reason is CONDITIONS[first]

