"""The use limits rule (domain/limits.py), on its own; tests/integration/test_limits_rule.py
holds both databases to it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.agreements import AgreementState, AgreementStatus
from onceonly.domain.errors import DomainError
from onceonly.domain.limits import (
    Counts,
    counts_persons,
    counts_uses,
    limit_reached,
    quota_spent,
    refusal_detail,
    release_refusal,
)
from onceonly.domain.policy import check_fields
from onceonly.domain.reasons import Reason
from tests.unit.factories import NOW, agreement


def test_the_limits_are_checked_in_one_order_the_days_queries_the_uses_people():
    limited = agreement(max_queries_per_day=1, max_uses=1, max_persons_per_day=1)
    assert limit_reached(limited, Counts(2, 2, 2)) is Reason.QUOTA_EXCEEDED
    assert limit_reached(limited, Counts(1, 2, 2)) is Reason.USES_EXHAUSTED
    assert limit_reached(limited, Counts(1, 1, 2)) is Reason.PERSON_LIMIT_REACHED
    assert limit_reached(limited, Counts(1, 1, 1)) is None


def test_a_limit_not_set_or_a_count_not_kept_never_refuses():
    assert limit_reached(agreement(max_queries_per_day=5), Counts(5, 99, 99)) is None
    assert limit_reached(agreement(max_queries_per_day=5, max_uses=1), Counts(5)) is None


def test_a_suspended_officer_is_refused_before_any_limit():
    spent = agreement(max_queries_per_day=1)
    assert release_refusal(True, spent, Counts(9)) is Reason.OFFICER_SUSPENDED
    assert release_refusal(False, spent, Counts(9)) is Reason.QUOTA_EXCEEDED
    assert release_refusal(False, spent, Counts(1)) is None


def test_the_day_is_spent_before_counting_when_its_queries_reach_the_limit():
    assert quota_spent(agreement(max_queries_per_day=3), 3)
    assert not quota_spent(agreement(max_queries_per_day=3), 2)


def test_uses_are_counted_only_under_a_use_limit():
    assert counts_uses(agreement(max_uses=1))
    assert not counts_uses(agreement(max_uses=None))


def test_people_are_counted_only_under_a_person_limit_and_for_a_known_person():
    assert counts_persons(agreement(max_persons_per_day=1), "person-key")
    assert not counts_persons(agreement(max_persons_per_day=1), None)
    assert not counts_persons(agreement(max_persons_per_day=None), "person-key")
    assert not counts_persons(agreement(max_persons_per_day=None), None)


@pytest.mark.parametrize(("reason", "words"), [
    (Reason.QUOTA_EXCEEDED, "the agreement allows 7 queries a day"),
    (Reason.USES_EXHAUSTED, "the agreement allows 2 uses in all, and they are spent"),
    (Reason.PERSON_LIMIT_REACHED, "the agreement allows 3 different people a day"),
    (Reason.OFFICER_SUSPENDED, "this officer is suspended from GOV/HMRC's data until its "
                               "guardian has reviewed an anomaly alert"),
])
def test_each_refusal_says_which_limit(reason, words):
    limited = agreement(max_queries_per_day=7, max_uses=2, max_persons_per_day=3)
    assert refusal_detail(reason, limited) == words


def test_a_query_names_each_field_once_and_at_least_one():
    check_fields(("a", "b"))
    for fields, code in (((), "no_fields"), (("a", "a"), "duplicate_field")):
        with pytest.raises(DomainError) as refusal:
            check_fields(fields)
        assert refusal.value.code == code


def test_an_access_is_hidden_for_the_agreements_hidden_days_only():
    assert agreement(hidden_days=0).hidden_until(NOW) is None
    assert agreement(hidden_days=90).hidden_until(NOW) == NOW + timedelta(days=90)


def test_agreement_states_are_an_enum_with_the_words_stored_and_shown():
    approved = agreement(status=AgreementStatus.APPROVED)
    assert approved.state_at(approved.valid_from) is AgreementState.ACTIVE
    assert approved.active_at(approved.valid_from)
    assert approved.state_at(approved.valid_until) == "expired"
    assert agreement(status=AgreementStatus.REVOKED).state_at(NOW) is AgreementState.REVOKED
