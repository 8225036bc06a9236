"""The public register of data-sharing agreements (as the Digital Economy Act 2017 Part 5
codes of practice expect): every agreement in force, by its parties' names, its purpose and
legal basis, the fields it releases by their labels, and its dates. For anyone to read: it
names no person and no officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onceonly.domain.agreements import Agreement, LegalBasis
from onceonly.domain.catalogue import Dataset, FieldSpec
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

# Each legal basis in words, in English and Welsh, as the register publishes it.
LEGAL_BASIS_WORDS: dict[LegalBasis, dict[str, str]] = {
    LegalBasis.CONSENT: {"en": "The person's consent",
                         "cy": "Caniatâd yr unigolyn"},
    LegalBasis.STATUTORY_DUTY: {"en": "A duty set in law",
                                "cy": "Dyletswydd a osodwyd yn y gyfraith"},
    LegalBasis.PUBLIC_TASK: {"en": "A task carried out in the public interest",
                             "cy": "Tasg a gyflawnir er budd y cyhoedd"},
    LegalBasis.VITAL_INTERESTS: {"en": "To protect someone's life",
                                 "cy": "I ddiogelu bywyd rhywun"},
}


@dataclass(frozen=True, slots=True)
class RegisteredField:
    """A field as released: its released name, and the catalogue's words for its source."""

    name: str
    spec: FieldSpec | None  # None: the dataset no longer lists it
    derived: bool  # a derived answer (a transform), not the value itself

    def label_in(self, language: str) -> str:
        return self.spec.label_in(language) if self.spec is not None else self.name


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    agreement: Agreement
    provider_name: str
    consumer_name: str
    dataset_title: str
    fields: tuple[RegisteredField, ...]


def register_entry(agreement: Agreement, names: dict[str, str],
                   dataset: Dataset | None) -> RegisterEntry:
    fields = tuple(RegisteredField(g.name, dataset.field(g.source) if dataset else None,
                                   g.transform != "as_is")
                   for g in agreement.grants)
    return RegisterEntry(agreement, names.get(agreement.provider_id, agreement.provider_id),
                         names.get(agreement.consumer_id, agreement.consumer_id),
                         dataset.title if dataset else agreement.dataset_id, fields)


class RegisterService:
    def __init__(self, uows: UnitOfWorkFactory[AgreementsUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock

    def in_force(self) -> list[RegisterEntry]:
        """Every agreement in force now (approved or suspended, not expired), oldest
        first. Public."""
        now = self.clock.now()
        with self.uows() as uow:
            agreements = [a for a in uow.agreements.list_for(None) if a.in_force_at(now)]
            names = {o.id: o.name for o in uow.catalogue.organisations()}
            datasets = {d.id: d for d in uow.catalogue.datasets()}
        return [register_entry(a, names, datasets.get(a.dataset_id))
                for a in sorted(agreements, key=lambda a: a.id or 0)]

    def now(self) -> datetime:
        return self.clock.now()
