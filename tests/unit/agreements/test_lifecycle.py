"""The agreement lifecycle (domain/agreements/lifecycle.py): who may move it, from where
to where, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain import agreements as lc
from onceonly.domain.agreements import AgreementStatus as S
from onceonly.domain.agreements import FieldGrant, Risk
from onceonly.domain.errors import ErrorKind
from onceonly.domain.organisations import Role
from tests.unit.agreements.drafts import (
    CONSUMER,
    EXPLICIT_CONSENT,
    GUARDIAN,
    SECOND_GUARDIAN,
    draft,
    refused,
)
from tests.unit.factories import NOW, agreement, assessment, principal


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


def test_submission_needs_an_assessment():
    assert refused(lc.submit, draft(assessment=None), CONSUMER, "go", NOW).code == \
        "assessment_required"


def test_special_category_data_needs_a_high_risk_assessment():
    special = draft(grants=[FieldGrant("fit_to_drive", "conditions", "fit_to_drive")])
    assert special.special_category
    assert refused(lc.submit, special, CONSUMER, "go", NOW).code == \
        "assessment_understates_risk"
    assert lc.submit(replace(special, assessment=assessment(Risk.HIGH),
                             special_category_condition=EXPLICIT_CONSENT), CONSUMER, "go",
                     NOW).status is S.SUBMITTED


def test_special_category_data_needs_an_article_9_condition_to_be_submitted():
    special = draft(grants=[FieldGrant("fit_to_drive", "conditions", "fit_to_drive")],
                    assessment=assessment(Risk.HIGH))
    assert special.special_category_condition is None
    error = refused(lc.submit, special, CONSUMER, "go", NOW)
    assert (error.kind, error.code) == (ErrorKind.INVALID, "special_category_condition_missing")
    named = draft(grants=[FieldGrant("fit_to_drive", "conditions", "fit_to_drive")],
                  assessment=assessment(Risk.HIGH), special_category_condition=EXPLICIT_CONSENT)
    assert named.special_category_condition is EXPLICIT_CONSENT
    assert lc.submit(named, CONSUMER, "go", NOW).status is S.SUBMITTED
    assert lc.submit(draft(), CONSUMER, "go", NOW).status is S.SUBMITTED  # personal data only


def test_high_risk_needs_two_different_guardians():
    a = lc.submit(draft(assessment=assessment(Risk.HIGH)), CONSUMER, "go", NOW)
    a = lc.approve(a, GUARDIAN, "first", NOW)
    assert a.status is S.SUBMITTED and a.approvals == (GUARDIAN.id,)
    assert refused(lc.approve, a, GUARDIAN, "again", NOW).code == "duplicate_approval"
    a = lc.approve(a, SECOND_GUARDIAN, "second", NOW)
    assert a.status is S.APPROVED


# -- the authorisation matrix: every action x actor x status ----------------------------------

OUTSIDER = principal("COM/ACME", Role.GUARDIAN)
ACTORS = {
    "consumer officer": CONSUMER,
    "consumer guardian": principal("GOV/DWP", Role.GUARDIAN),
    "consumer manager": principal("GOV/DWP", Role.MANAGER),
    "provider guardian": GUARDIAN,
    "provider officer": principal("GOV/HMRC", Role.OFFICER),
    "provider admin": principal("GOV/HMRC", Role.ADMIN),
    "outsider guardian": OUTSIDER,
    "citizen": principal("GOV/DWP", Role.CITIZEN),
}
# Written out from the lifecycle in the package's docstring, not read back from the code.
WHO = {
    "submit": {"consumer officer", "consumer guardian"},
    "approve": {"provider guardian"}, "reject": {"provider guardian"},
    "suspend": {"provider guardian"}, "resume": {"provider guardian"},
    "revoke": {"provider guardian"},
}
FROM_TO = {
    "submit": ({S.DRAFT}, S.SUBMITTED),
    "approve": ({S.SUBMITTED}, S.APPROVED),
    "reject": ({S.SUBMITTED}, S.REJECTED),
    "suspend": ({S.APPROVED}, S.SUSPENDED),
    "resume": ({S.SUSPENDED}, S.APPROVED),
    "revoke": ({S.SUBMITTED, S.APPROVED, S.SUSPENDED}, S.REVOKED),
}
ONLY_FROM = {"submit": "draft", "approve": "submitted", "reject": "submitted",
             "suspend": "approved", "resume": "suspended",
             "revoke": "submitted or approved or suspended"}
FORBIDDEN_CODE = {"submit": "not_consumer_party"}
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("actor", list(ACTORS))
@pytest.mark.parametrize("action", list(FROM_TO))
def test_every_action_by_every_actor_from_every_status(action, actor, status):
    before = agreement(status=status, approvals=("earlier-guardian",))
    who = ACTORS[actor]
    allowed_from, to = FROM_TO[action]
    if actor not in WHO[action]:
        error = refused(lc.TRANSITIONS[action], before, who, " why ", LATER)
        assert (error.kind, error.code) == (
            ErrorKind.FORBIDDEN, FORBIDDEN_CODE.get(action, "not_provider_guardian"))
        return
    if status not in allowed_from:
        error = refused(lc.TRANSITIONS[action], before, who, " why ", LATER)
        assert (error.kind, error.code) == (ErrorKind.CONFLICT, "illegal_transition")
        assert error.detail == (f"cannot {action} an agreement that is {status.value}; "
                                f"only one that is {ONLY_FROM[action]}")
        return
    after = lc.TRANSITIONS[action](before, who, " why ", LATER)
    assert after.status is to
    assert after.history == (lc.Transition(LATER, who.id, who.org_id, action, status, to,
                                           "why"),)
    assert after.approvals == {"submit": (), "approve": ("earlier-guardian", who.id)}.get(
        action, ("earlier-guardian",))
    assert before.status is status  # the agreement it was given is left as it was
    assert replace(after, status=status, approvals=before.approvals, history=()) == before


def test_a_rejection_is_final():
    rejected = lc.reject(agreement(status=S.SUBMITTED), GUARDIAN, "not needed", NOW)
    assert rejected.status is S.REJECTED
    for action in ("approve", "submit", "resume", "suspend", "revoke"):
        assert refused(lc.TRANSITIONS[action], rejected, GUARDIAN, "why", NOW).code in (
            "illegal_transition", "not_consumer_party")


@pytest.mark.parametrize("action", list(FROM_TO))
def test_every_action_needs_a_reason_first(action):
    for status in S:
        error = refused(lc.TRANSITIONS[action], agreement(status=status), OUTSIDER, " \t", NOW)
        assert (error.kind, error.code) == (ErrorKind.INVALID, "reason_required")


def test_a_submission_is_refused_once_the_validity_has_ended():
    made = draft(valid_until=NOW + timedelta(days=1))
    end = made.valid_until
    error = refused(lc.submit, made, CONSUMER, "go", end)
    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "outside_validity")
    assert lc.submit(made, CONSUMER, "go", end - timedelta(microseconds=1)).status is \
        S.SUBMITTED


def test_a_submission_checks_the_actor_before_the_assessment():
    error = refused(lc.submit, draft(assessment=None), GUARDIAN, "go", NOW)
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "not_consumer_party")
    error = refused(lc.submit, draft(assessment=None), CONSUMER, "go", NOW)
    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "assessment_required")


def test_the_anomaly_detector_suspends_only_an_approved_agreement():
    suspended = lc.suspend_for_anomaly(agreement(), "night_volume", NOW)
    assert suspended.status is S.SUSPENDED
    assert suspended.history == (lc.Transition(
        NOW, "onceonly.anomaly-detector", "GOV/HMRC", "suspend", S.APPROVED, S.SUSPENDED,
        "anomaly detected: night_volume; the provider's guardian is alerted"),)
    for status in set(S) - {S.APPROVED}:
        error = refused(lc.suspend_for_anomaly, agreement(status=status), "rule", NOW)
        assert (error.kind, error.code) == (ErrorKind.CONFLICT, "illegal_transition")
        assert error.detail == (f"cannot suspend an agreement that is {status.value}; "
                                "only one that is approved")


def test_a_member_suspension_suspends_only_an_approved_agreement_and_says_why():
    admin = principal("GOV/EXCHANGE", Role.ADMIN)
    suspended = lc.suspend_for_member(agreement(), admin, "  fraud inquiry ", NOW)
    assert suspended.status is S.SUSPENDED
    assert suspended.history == (lc.Transition(
        NOW, admin.id, "GOV/EXCHANGE", "suspend", S.APPROVED, S.SUSPENDED,
        "member suspended: fraud inquiry"),)
    assert refused(lc.suspend_for_member, agreement(), admin, " ", NOW).code == \
        "reason_required"
    for status in set(S) - {S.APPROVED}:
        error = refused(lc.suspend_for_member, agreement(status=status), admin, "x", NOW)
        assert (error.kind, error.code) == (ErrorKind.CONFLICT, "illegal_transition")
        assert error.detail.startswith(f"cannot suspend an agreement that is {status.value}")


def test_a_member_resumed_resumes_only_a_suspended_agreement_and_says_why():
    admin = principal("GOV/EXCHANGE", Role.ADMIN)
    resumed = lc.resume_for_member(agreement(status=S.SUSPENDED), admin, " cleared ", NOW)
    assert resumed.status is S.APPROVED
    assert resumed.history == (lc.Transition(
        NOW, admin.id, "GOV/EXCHANGE", "resume", S.SUSPENDED, S.APPROVED,
        "member resumed: cleared"),)
    assert refused(lc.resume_for_member, agreement(status=S.SUSPENDED), admin, "", NOW
                   ).code == "reason_required"
    for status in set(S) - {S.SUSPENDED}:
        error = refused(lc.resume_for_member, agreement(status=status), admin, "x", NOW)
        assert (error.kind, error.code) == (ErrorKind.CONFLICT, "illegal_transition")
        assert error.detail.startswith(f"cannot resume an agreement that is {status.value}")
