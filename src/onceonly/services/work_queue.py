"""The manager's work queue: the agreements awaiting a guardian's decision and how long each
has waited, the open anomaly alerts, the open accuracy challenges with their age against
the one month an organisation has to answer, and the dead-lettered deliveries. Across
every organisation; for managers and administrators. It names no person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onceonly.domain.accuracy import Challenge, ChallengeStatus
from onceonly.domain.agreements import Agreement, AgreementStatus
from onceonly.domain.anomaly import Alert
from onceonly.domain.deadlines import one_month_after
from onceonly.domain.life_events import Delivery
from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.ports.work_queue import WorkQueueUnitOfWork

MANAGERS = {Role.MANAGER, Role.ADMIN}
OPEN_CHALLENGES = (ChallengeStatus.OPEN, ChallengeStatus.CORRECTING)
DEAD_LETTERS_SHOWN = 100  # an organisation's newest


@dataclass(frozen=True, slots=True)
class AwaitingDecision:
    agreement: Agreement
    submitted_at: datetime
    waited: timedelta


@dataclass(frozen=True, slots=True)
class OpenChallenge:
    challenge: Challenge
    age: timedelta
    due_at: datetime  # one calendar month after it was raised

    @property
    def overdue(self) -> bool:
        return self.age > self.due_at - self.challenge.raised_at


@dataclass(frozen=True, slots=True)
class WorkQueue:
    at: datetime
    names: dict[str, str]  # organisations by id
    awaiting: tuple[AwaitingDecision, ...]  # longest waiting first
    alerts: tuple[Alert, ...]  # oldest first
    challenges: tuple[OpenChallenge, ...]  # oldest first
    dead_letters: tuple[Delivery, ...]  # oldest first


def submitted_at(agreement: Agreement) -> datetime | None:
    """When the agreement's current submission was made (its last move to submitted)."""
    moves = [h.at for h in agreement.history if h.to_status is AgreementStatus.SUBMITTED
             and h.action == "submit"]
    return moves[-1] if moves else agreement.created_at


class WorkQueueService:
    def __init__(self, uows: UnitOfWorkFactory[WorkQueueUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock

    def read(self, manager: Principal) -> WorkQueue:
        require_role(self.uows, self.clock, manager, MANAGERS, "work_queue.read")
        now = self.clock.now()
        with self.uows() as uow:
            organisations = uow.catalogue.organisations()
            awaiting = []
            for listed in uow.agreements.list_for(None):
                if listed.status is not AgreementStatus.SUBMITTED or listed.id is None:
                    continue
                agreement = uow.agreements.get(listed.id, with_history=True) or listed
                since = submitted_at(agreement) or now
                awaiting.append(AwaitingDecision(agreement, since, now - since))
            alerts = [a for o in organisations for a in uow.alerts.list_for(o.id)
                      if a.status == "open"]
            challenges = [c for o in organisations for c in uow.challenges.for_provider(o.id)
                          if c.status in OPEN_CHALLENGES]
            dead = [d for o in organisations
                    for d in uow.life_events.failed_for(o.id, DEAD_LETTERS_SHOWN)]
        return WorkQueue(
            at=now, names={o.id: o.name for o in organisations},
            awaiting=tuple(sorted(awaiting, key=lambda w: w.submitted_at)),
            alerts=tuple(sorted(alerts, key=lambda a: a.at)),
            challenges=tuple(sorted((OpenChallenge(c, now - c.raised_at,
                                                   one_month_after(c.raised_at))
                                     for c in challenges), key=lambda o: o.challenge.raised_at)),
            dead_letters=tuple(sorted(dead, key=lambda d: d.created_at)))
