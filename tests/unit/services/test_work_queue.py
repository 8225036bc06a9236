"""The manager's work queue on the fakes: what waits, oldest first, for managers only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.accuracy import Challenge, ChallengeStatus
from onceonly.domain.agreements import AgreementStatus, Transition
from onceonly.domain.deadlines import one_month_after
from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import Delivery, DeliveryStatus
from onceonly.domain.organisations import Role
from onceonly.services.work_queue import WorkQueueService
from tests.unit.factories import NOW, agreement, principal

MANAGER = principal("GOV/EXCHANGE", Role.MANAGER)


def challenge(challenge_id: int, raised_days_ago: int,
              status: ChallengeStatus = ChallengeStatus.OPEN) -> Challenge:
    return Challenge(challenge_id, "person-1", "GOV/HMRC", "GOV/HMRC/income", "annual_income",
                     "wrong", "30000", status, NOW - timedelta(days=raised_days_ago))


def test_what_waits_is_listed_with_how_long_it_waited(uows, clock):
    data = uows.data
    submitted = NOW - timedelta(days=2, hours=3)
    data.agreements[2] = agreement(id=2, status=AgreementStatus.SUBMITTED, history=(
        Transition(submitted, "dwp.officer", "GOV/DWP", "submit", AgreementStatus.DRAFT,
                   AgreementStatus.SUBMITTED, "ready"),))
    data.challenges[1] = challenge(1, 40)
    data.challenges[2] = challenge(2, 3)
    data.challenges[3] = challenge(3, 50, ChallengeStatus.CORRECTED)
    data.deliveries["d1"] = Delivery("d1", "r1", "GOV/DWP", 1, "webhook",
                                     DeliveryStatus.FAILED, 3, NOW, NOW - timedelta(hours=5),
                                     last_error="connection refused")

    queue = WorkQueueService(uows, clock).read(MANAGER)

    [waiting] = queue.awaiting
    assert (waiting.agreement.id, waiting.submitted_at, waiting.waited) == (
        2, submitted, timedelta(days=2, hours=3))
    assert [(c.challenge.id, c.overdue) for c in queue.challenges] == [(1, True), (2, False)]
    assert queue.challenges[1].due_at == one_month_after(NOW - timedelta(days=3))
    assert queue.challenges[1].age == timedelta(days=3)
    assert [d.id for d in queue.dead_letters] == ["d1"]
    assert queue.names["GOV/HMRC"] == "Revenue"


@pytest.mark.parametrize("role", [Role.GUARDIAN, Role.OFFICER, Role.CITIZEN])
def test_only_managers_read_the_queue(uows, clock, role):
    with pytest.raises(DomainError) as refused:
        WorkQueueService(uows, clock).read(principal("GOV/HMRC", role))
    assert refused.value.code == "role_not_allowed"
