"""Drafting an agreement (domain/agreements/drafting.py): who may, what a draft is made
of, and each rule on its terms at its edge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain import agreements as lc
from onceonly.domain.agreements import AgreementStatus as S
from onceonly.domain.agreements import FieldGrant, LegalBasis
from onceonly.domain.errors import ErrorKind
from onceonly.domain.organisations import Role
from tests.unit.agreements.drafts import (
    CONSUMER,
    GUARDIAN,
    draft,
    refused,
)
from tests.unit.factories import INCOME, NOW, agreement, assessment, principal


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
