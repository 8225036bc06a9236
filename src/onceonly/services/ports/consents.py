"""Citizens' consents, their receipts, and the consent check of a query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from onceonly.domain.consent import Consent
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.identity import PersonIndex
from onceonly.services.ports.unit_of_work import UnitOfWork


class Consents(Protocol):
    """Citizens' consents and their signed receipts."""

    def add(self, consent: Consent, receipt: str) -> None: ...
    def get(self, consent_id: str) -> Consent | None: ...
    def withdraw(self, consent: Consent, receipt: str) -> bool:
        """Record the withdrawal if the consent is not withdrawn yet; False if it was (two
        withdrawals racing: one wins)."""
        ...
    def of_person(self, person_key: str) -> list[tuple[Consent, str, str | None]]:
        """The person's consents, newest first, with their grant and withdrawal receipts."""
        ...
    def live_fields(self, person_key: str, purpose: str, consumer_id: str,
                    now: datetime) -> list[tuple[str, ...]]:
        """The fields of each of the person's consents live now for the purpose, to this
        consumer or any (the consent check's read: one indexed statement)."""
        ...


class ConsentRegistry(Protocol):
    def has_consent(
        self, uow: ConsentCheckUnitOfWork, person_key: str, consumer_id: str, purpose: str,
        fields: Sequence[str], now: datetime,
    ) -> bool:
        """Read within the caller's transaction: a withdrawal committed by any process
        refuses the very next query."""
        ...


class ConsentCheckUnitOfWork(UnitOfWork, Protocol):
    """What the consent check reads (ConsentRegistry.has_consent)."""

    @property
    def consents(self) -> Consents: ...


class ConsentsUnitOfWork(AgreementsUnitOfWork, ConsentCheckUnitOfWork, Protocol):
    @property
    def people(self) -> PersonIndex: ...
