"""The manager's work queue: what waits on someone, read across every organisation."""

from __future__ import annotations

from typing import Protocol

from onceonly.services.ports.accuracy import Challenges
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.anomaly import Alerts
from onceonly.services.ports.life_events import LifeEventStore


class WorkQueueUnitOfWork(AgreementsUnitOfWork, Protocol):
    @property
    def alerts(self) -> Alerts: ...
    @property
    def challenges(self) -> Challenges: ...
    @property
    def life_events(self) -> LifeEventStore: ...
