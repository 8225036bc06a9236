"""Accuracy: citizens' challenges to a provider's data, and the corrections made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.accuracy import Challenge
from onceonly.services.ports.accounts import CitizenLanguages
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.identity import PersonIndex
from onceonly.services.ports.keys import DataKeys
from onceonly.services.ports.life_events import LifeEventStore
from onceonly.services.ports.unit_of_work import UnitOfWork


class Challenges(Protocol):
    """Accuracy challenges, corrections, and the default inbox of correction notices."""

    def add(self, challenge: Challenge) -> Challenge: ...
    def get(self, challenge_id: int) -> Challenge | None: ...
    def open_for(self, person_key: str, dataset_id: str, field: str) -> Challenge | None: ...
    def save(self, challenge: Challenge, was: Challenge) -> bool:
        """Write the new state if it is still as `was` (status and decision time); False if
        someone else moved it first."""
        ...
    def of_person(self, person_key: str) -> list[Challenge]: ...
    def for_provider(self, provider_id: str) -> list[Challenge]: ...
    def add_correction(self, challenge_id: int, by: str, at: datetime,
                       values_hash: str) -> int: ...
    def add_notice(self, correction_id: int, consumer_id: str, agreement_id: int,
                   person_key: str, field: str, release_ids: Sequence[str],
                   at: datetime) -> int: ...
    def notices_for(self, consumer_id: str, limit: int) -> list[dict[str, Any]]: ...


class CorrectionNotifier(Protocol):
    """Tells a consumer that a value it received about a person was corrected. Called in
    the unit of work that records the correction, so a notice is written (to an outbox or
    an inbox) in the same transaction: a correction is never recorded without them."""

    def notify(self, uow: CorrectionsUnitOfWork, *, consumer_id: str, agreement_id: int,
               person_key: str, field: str, correction_id: int,
               release_ids: Sequence[str] = ()) -> None: ...

    def tell_provider(self, uow: CorrectionsUnitOfWork, *, provider_id: str,
                      subject: tuple[str, str], person_key: str, dataset_id: str, field: str,
                      value: Any, correction_id: int) -> None:
        """Tell a provider whose system the exchange does not write (CorrectionsByNotice) of
        a correction to its own record, the person by its own identifier (`subject`), with
        the corrected value for it to apply."""
        ...


class CorrectionsUnitOfWork(UnitOfWork, Protocol):
    """What telling consumers of a correction may write to: an inbox, or the outbox."""

    @property
    def challenges(self) -> Challenges: ...
    @property
    def life_events(self) -> LifeEventStore: ...
    @property
    def people(self) -> PersonIndex: ...
    @property
    def languages(self) -> CitizenLanguages: ...
    @property
    def data_keys(self) -> DataKeys: ...


class AccuracyUnitOfWork(AgreementsUnitOfWork, CorrectionsUnitOfWork, Protocol):
    """Challenges raised and decided, and a correction told in its own transaction."""
