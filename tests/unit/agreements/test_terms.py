"""An agreement's terms (domain/agreements/terms.py): the state that follows from its
status and the clock, and the approvals its risk requires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain import agreements as lc
from onceonly.domain.agreements import AgreementStatus as S
from onceonly.domain.agreements import Risk
from tests.unit.agreements.drafts import (
    GUARDIAN,
)
from tests.unit.factories import NOW, agreement, assessment


def test_state_follows_the_clock():
    a = agreement()
    assert a.state_at(NOW) == "active"
    assert a.state_at(a.valid_from - timedelta(seconds=1)) == "pending"
    assert a.state_at(a.valid_until) == "expired"
    assert agreement(status=S.SUSPENDED).state_at(a.valid_until) == "expired"
    assert agreement(status=S.REVOKED).state_at(NOW) == "revoked"


@pytest.mark.parametrize(("risk", "required"), [
    (None, 1), (Risk.LOW, 1), (Risk.MEDIUM, 1), (Risk.HIGH, 2)])
def test_approvals_required_follow_the_risk(risk, required):
    made = agreement(assessment=None if risk is None else assessment(risk),
                     status=S.SUBMITTED)
    assert made.approvals_required == required
    once = lc.approve(made, GUARDIAN, "ok", NOW)
    assert once.status is (S.APPROVED if required == 1 else S.SUBMITTED)


def test_state_at_each_edge():
    a = agreement()
    assert a.state_at(a.valid_from) == "active"
    assert a.state_at(a.valid_until - timedelta(microseconds=1)) == "active"
    assert agreement(status=S.SUSPENDED).state_at(NOW) == "suspended"
    assert agreement(status=S.DRAFT).state_at(a.valid_until) == "draft"
    assert agreement(status=S.REJECTED).state_at(a.valid_until) == "rejected"
