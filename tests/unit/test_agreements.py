"""The agreement lifecycle: who may move it, from where to where, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain import agreements as lc
from onceonly.domain.agreements import AgreementStatus as S
from onceonly.domain.agreements import FieldGrant, LegalBasis, Risk
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from tests.unit.factories import INCOME, NOW, agreement, assessment, principal

CONSUMER = principal("GOV/DWP", Role.OFFICER)
GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g1")
SECOND_GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g2")


def draft(**changes):
    args = dict(
        actor=CONSUMER, dataset=INCOME, consumer_id="GOV/DWP",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="benefit-entitlement", purpose_text="entitlement",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=NOW,
        valid_until=NOW + timedelta(days=30), max_queries_per_day=10, retention_days=30,
        assessment=assessment(), now=NOW,
    )
    args.update(changes)
    return lc.draft_agreement(**args)


def refused(fn, *args):
    with pytest.raises(DomainError) as error:
        fn(*args)
    return error.value


def test_a_draft_records_who_drafted_it():
    made = draft()
    assert made.status is S.DRAFT
    assert made.history[0].actor_id == CONSUMER.id
    assert made.history[0].action == "create"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"grants": []}, "no_fields"),
        ({"grants": [FieldGrant("x", "salary")]}, "unknown_field"),
        ({"grants": [FieldGrant("x", "full_name", "income_band")]}, "transform_mismatch"),
        ({"grants": [FieldGrant("x", "full_name", "rot13")]}, "unknown_transform"),
        ({"grants": [FieldGrant("a", "full_name"), FieldGrant("a", "full_name")]},
         "duplicate_field"),
        ({"purpose_code": "Benefit Entitlement"}, "invalid_purpose"),
        ({"valid_until": NOW}, "invalid_validity"),
        ({"max_queries_per_day": 0}, "invalid_limit"),
        ({"retention_days": -1}, "invalid_retention"),
        ({"consumer_id": "GOV/HMRC", "actor": principal("GOV/HMRC")}, "self_agreement"),
        ({"actor": principal("COM/ACME")}, "not_consumer_party"),
        ({"actor": principal("GOV/DWP", Role.CITIZEN)}, "not_consumer_party"),
    ],
)
def test_bad_drafts_are_refused(changes, code):
    assert refused(lambda: draft(**changes)).code == code


def test_the_full_lifecycle_with_reasons():
    a = lc.submit(draft(), CONSUMER, "ready", NOW)
    a = lc.approve(a, GUARDIAN, "fine", NOW)
    assert a.status is S.APPROVED
    a = lc.suspend(a, GUARDIAN, "anomaly", NOW)
    a = lc.resume(a, GUARDIAN, "explained", NOW)
    a = lc.revoke(a, GUARDIAN, "contract ended", NOW)
    assert a.status is S.REVOKED
    assert [h.action for h in a.history] == [
        "create", "submit", "approve", "suspend", "resume", "revoke"]
    assert [h.reason for h in a.history][1:] == [
        "ready", "fine", "anomaly", "explained", "contract ended"]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.DRAFT, lc.approve), (S.DRAFT, lc.suspend), (S.APPROVED, lc.approve),
        (S.REVOKED, lc.resume), (S.REVOKED, lc.approve), (S.REJECTED, lc.approve),
        (S.APPROVED, lc.resume), (S.SUSPENDED, lc.suspend), (S.DRAFT, lc.revoke),
        (S.REVOKED, lc.revoke),
    ],
)
def test_illegal_transitions_are_conflicts(status, action):
    error = refused(action, agreement(status=status), GUARDIAN, "why", NOW)
    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "illegal_transition")


@pytest.mark.parametrize("action", [lc.approve, lc.reject])
def test_only_a_guardian_of_the_provider_decides(action):
    submitted = agreement(status=S.SUBMITTED)
    for outsider in (principal("GOV/DWP", Role.GUARDIAN), principal("GOV/HMRC", Role.OFFICER)):
        assert refused(action, submitted, outsider, "why", NOW).code == "not_provider_guardian"


def test_every_step_needs_a_reason():
    assert refused(lc.approve, agreement(status=S.SUBMITTED), GUARDIAN, "  ", NOW).code == \
        "reason_required"


def test_submission_needs_an_assessment():
    assert refused(lc.submit, draft(assessment=None), CONSUMER, "go", NOW).code == \
        "assessment_required"


def test_special_category_data_needs_a_high_risk_assessment():
    special = draft(grants=[FieldGrant("fit_to_drive", "conditions", "fit_to_drive")])
    assert special.special_category
    assert refused(lc.submit, special, CONSUMER, "go", NOW).code == \
        "assessment_understates_risk"
    assert lc.submit(replace(special, assessment=assessment(Risk.HIGH)), CONSUMER, "go",
                     NOW).status is S.SUBMITTED


def test_high_risk_needs_two_different_guardians():
    a = lc.submit(draft(assessment=assessment(Risk.HIGH)), CONSUMER, "go", NOW)
    a = lc.approve(a, GUARDIAN, "first", NOW)
    assert a.status is S.SUBMITTED and a.approvals == (GUARDIAN.id,)
    assert refused(lc.approve, a, GUARDIAN, "again", NOW).code == "duplicate_approval"
    a = lc.approve(a, SECOND_GUARDIAN, "second", NOW)
    assert a.status is S.APPROVED


def test_state_follows_the_clock():
    a = agreement()
    assert a.state_at(NOW) == "active"
    assert a.state_at(a.valid_from - timedelta(seconds=1)) == "pending"
    assert a.state_at(a.valid_until) == "expired"
    assert agreement(status=S.SUSPENDED).state_at(a.valid_until) == "expired"
    assert agreement(status=S.REVOKED).state_at(NOW) == "revoked"
