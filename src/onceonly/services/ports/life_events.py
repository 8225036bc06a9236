"""Tell us once: registers, subscriptions, reports and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset
from onceonly.domain.life_events import Delivery, Report
from onceonly.services.ports.accounts import CitizenLanguages
from onceonly.services.ports.agreements import AgreementRepository
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.delivery import DeliveryOutbox
from onceonly.services.ports.identity import PersonIndex
from onceonly.services.ports.keys import DataKeys


class LifeEventStore(DeliveryOutbox, Protocol):
    """Tell us once: registers, subscriptions, reports and the delivery outbox."""

    def register(self, event_type: str) -> Dataset | None: ...
    def subscriptions(self, dataset_id: str) -> list[Agreement]: ...
    def schemes_of(self, org_ids: Sequence[str]) -> dict[str, list[str]]: ...
    def endpoints(self, org_ids: Sequence[str]) -> dict[str, str]: ...
    def set_endpoint(self, org_id: str, url: str | None, by: str, at: datetime) -> None: ...
    def report_by_event(self, source: str, event_id: str) -> Report | None: ...
    def add_report(self, report: Report, sealed_event: Any,
                   deliveries: Sequence[tuple[Delivery, Any]],
                   claim_token: str | None = None) -> bool:
        """The report and all its deliveries (each with its sealed notification), in the
        caller's transaction: an accepted report is never without its outbox rows. False,
        writing nothing, if the source already sent an event with this id. `claim_token`:
        its webhook deliveries are written already claimed under that token (their attempt
        and lease as given), as a worker's claim would leave them."""
        ...
    def report(self, report_id: str) -> Report | None: ...
    def reports_about(self, person_key: str) -> list[Report]: ...
    def deliveries_of(self, report_ids: Sequence[str]) -> list[Delivery]: ...
    def delivery(self, delivery_id: str) -> Delivery | None: ...
    def failed_for(self, org_id: str, limit: int) -> list[Delivery]:
        """The organisation's dead-lettered deliveries, newest first."""
        ...
    def requeue(self, delivery: Delivery) -> bool:
        """Put a dead-lettered delivery back as given; False, changing nothing, if it is no
        longer dead-lettered (another requeue came first)."""
        ...
    def inbox(self, org_id: str, limit: int) -> list[tuple[Delivery, Any]]: ...
    def acknowledge(self, delivery_id: str, org_id: str, at: datetime) -> bool:
        """Mark a pending inbox delivery of `org_id` delivered; False if it was not one."""
        ...


class LifeEventsUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def life_events(self) -> LifeEventStore: ...
    @property
    def agreements(self) -> AgreementRepository: ...
    @property
    def people(self) -> PersonIndex: ...
    # the language a citizen who caused a notification is answered in
    @property
    def languages(self) -> CitizenLanguages: ...
    # to seal notifications in the unit of work's own transaction
    @property
    def data_keys(self) -> DataKeys: ...
