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
from onceonly.domain.special_category import ProcessingCondition
from tests.unit.factories import INCOME, NOW, agreement, assessment, principal

EXPLICIT_CONSENT = ProcessingCondition.EXPLICIT_CONSENT

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


def test_state_follows_the_clock():
    a = agreement()
    assert a.state_at(NOW) == "active"
    assert a.state_at(a.valid_from - timedelta(seconds=1)) == "pending"
    assert a.state_at(a.valid_until) == "expired"
    assert agreement(status=S.SUSPENDED).state_at(a.valid_until) == "expired"
    assert agreement(status=S.REVOKED).state_at(NOW) == "revoked"


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
# Written out from the lifecycle in the module's docstring, not read back from the code.
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


@pytest.mark.parametrize(("risk", "required"), [
    (None, 1), (Risk.LOW, 1), (Risk.MEDIUM, 1), (Risk.HIGH, 2)])
def test_approvals_required_follow_the_risk(risk, required):
    made = agreement(assessment=None if risk is None else assessment(risk),
                     status=S.SUBMITTED)
    assert made.approvals_required == required
    once = lc.approve(made, GUARDIAN, "ok", NOW)
    assert once.status is (S.APPROVED if required == 1 else S.SUBMITTED)


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


def test_a_draft_may_require_training_and_keeps_it():
    made = lc.draft_agreement(
        actor=principal(), dataset=INCOME, consumer_id="GOV/DWP",
        grants=[FieldGrant("name", "full_name")], purpose_code="benefit-check",
        purpose_text="check", legal_basis=LegalBasis.PUBLIC_TASK, valid_from=NOW,
        valid_until=NOW + timedelta(days=30), max_queries_per_day=10, retention_days=30,
        assessment=None, now=NOW, requires_training=True)
    assert made.requires_training is True
    assert agreement().requires_training is False


# -- what a draft is made of ------------------------------------------------------------------

REGISTER = replace(INCOME, id="GOV/HMRC/deaths", event_type="gov.onceonly.death")


def test_a_draft_is_exactly_what_was_asked_for():
    grants = [FieldGrant("income_band", "annual_income", "income_band"),
              FieldGrant("name", "full_name")]
    made = draft(grants=grants, purpose_text="  entitlement  ", hidden_days=7,
                 max_persons_per_day=3, max_uses=2, bulk_max_records=100,
                 actor=principal("GOV/DWP", Role.GUARDIAN, "dwp-g"))
    assert made == lc.Agreement(
        id=None, provider_id="GOV/HMRC", consumer_id="GOV/DWP", dataset_id="GOV/HMRC/income",
        grants=tuple(grants), purpose_code="benefit-entitlement", purpose_text="entitlement",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=NOW,
        valid_until=NOW + timedelta(days=30), max_queries_per_day=10, retention_days=30,
        assessment=assessment(), special_category=False, hidden_days=7,
        max_persons_per_day=3, max_uses=2, bulk_max_records=100, kind=lc.AgreementKind.QUERY,
        status=S.DRAFT, approvals=(), created_by="dwp-g", created_at=NOW, version=0,
        history=(lc.Transition(NOW, "dwp-g", "GOV/DWP", "create", None, S.DRAFT,
                               "drafted"),))
    assert made.grant_by_name == {"income_band": grants[0], "name": grants[1]}


def test_a_draft_keeps_the_kind_of_its_dataset_through_the_lifecycle():
    made = draft(dataset=REGISTER)
    assert made.kind is lc.AgreementKind.NOTIFICATION
    a = lc.approve(lc.submit(made, CONSUMER, "go", NOW), GUARDIAN, "ok", NOW)
    assert a.kind is lc.AgreementKind.NOTIFICATION
    assert draft().kind is lc.AgreementKind.QUERY
    assert draft().hidden_days == 0  # shown to the citizen at once unless asked otherwise


@pytest.mark.parametrize(("changes", "code"), [
    ({"hidden_days": -1}, "invalid_hidden_days"),
    ({"hidden_days": 3 * 365 + 1}, "invalid_hidden_days"),
    ({"bulk_max_records": 0}, "invalid_limit"),
    ({"max_persons_per_day": 0}, "invalid_limit"),
    ({"max_uses": 0}, "invalid_limit"),
    ({"purpose_text": " \n "}, "invalid_purpose"),
    ({"purpose_code": "b"}, "invalid_purpose"),
    ({"valid_until": NOW - timedelta(microseconds=1)}, "invalid_validity"),
    ({"grants": [FieldGrant("Income", "annual_income")]}, "invalid_field_name"),
    ({"actor": principal("GOV/DWP", Role.MANAGER)}, "not_consumer_party"),
])
def test_each_draft_rule_refuses_one_past_its_edge(changes, code):
    error = refused(lambda: draft(**changes))
    assert error.code == code
    assert error.kind is (ErrorKind.FORBIDDEN if code == "not_consumer_party"
                          else ErrorKind.INVALID)


@pytest.mark.parametrize("changes", [
    {"hidden_days": 0}, {"hidden_days": 3 * 365}, {"bulk_max_records": 1},
    {"max_persons_per_day": 1}, {"max_uses": 1}, {"max_queries_per_day": 1},
    {"retention_days": 0}, {"valid_until": NOW + timedelta(microseconds=1)},
    {"purpose_code": "bb"}, {"grants": [FieldGrant("a", "full_name")]},
])
def test_each_draft_rule_permits_its_edge(changes):
    made = draft(**changes)
    for name, value in changes.items():
        assert getattr(made, name) == (tuple(value) if name == "grants" else value)


def test_state_at_each_edge():
    a = agreement()
    assert a.state_at(a.valid_from) == "active"
    assert a.state_at(a.valid_until - timedelta(microseconds=1)) == "active"
    assert agreement(status=S.SUSPENDED).state_at(NOW) == "suspended"
    assert agreement(status=S.DRAFT).state_at(a.valid_until) == "draft"
    assert agreement(status=S.REJECTED).state_at(a.valid_until) == "rejected"
